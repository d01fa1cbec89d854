#define _GNU_SOURCE
#include "CSupport.h"

#include <sys/socket.h>

int hk_accept_close_on_exec(int listening) {
    return accept4(listening, NULL, NULL, SOCK_CLOEXEC);
}
