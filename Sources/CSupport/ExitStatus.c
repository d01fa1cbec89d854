#include "ExitStatus.h"

#include <sys/wait.h>

int hk_status_exited(int status) { return WIFEXITED(status); }
int hk_status_exit_code(int status) { return WEXITSTATUS(status); }
int hk_status_signaled(int status) { return WIFSIGNALED(status); }
int hk_status_signal(int status) { return WTERMSIG(status); }
