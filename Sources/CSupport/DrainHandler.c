#include "CSupport.h"

#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <errno.h>

static volatile sig_atomic_t drain_requested = 0;
static int idle_socket = -1;

static void on_drain_signal(int signo) {
    (void)signo;
    int saved_errno = errno;
    drain_requested = 1;
    if (idle_socket >= 0) {
        dup2(idle_socket, 0);
    }
    errno = saved_errno;
}

int hk_install_drain_handler(void) {
    idle_socket = socket(AF_UNIX, SOCK_STREAM, 0);
    if (idle_socket < 0) return -1;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_drain_signal;
    sigemptyset(&action.sa_mask);
    /* No SA_RESTART: a blocked accept() must return to libfcgi's loop and meet the idle socket. */
    action.sa_flags = 0;
    if (sigaction(SIGTERM, &action, NULL) != 0) return -1;
    if (sigaction(SIGINT, &action, NULL) != 0) return -1;
    return 0;
}

int hk_drain_requested(void) {
    return drain_requested;
}
