#ifndef HITKEEP_EXIT_STATUS_H
#define HITKEEP_EXIT_STATUS_H

/* waitpid's status, decoded by libc's own macros (WIFEXITED and the rest are macros, which Swift
 * does not import), rather than by bit arithmetic that assumes their encoding. */
int hk_status_exited(int status);
int hk_status_exit_code(int status);
int hk_status_signaled(int status);
int hk_status_signal(int status);

#endif
