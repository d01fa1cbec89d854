#ifndef HITKEEP_CSUPPORT_H
#define HITKEEP_CSUPPORT_H

#include <stddef.h>

#include "SharedWords.h"
#include "ExitStatus.h"

/// Installs a SIGTERM/SIGINT handler for a FastCGI worker. The handler records the request to drain
/// and puts a socket that is not listening on fd 0, so that libfcgi's accept() (which retries on
/// EINTR) fails and the worker leaves its loop after finishing the request it is serving.
/// Returns 0, or -1 with errno set.
int hk_install_drain_handler(void);

/// Whether a drain has been requested by a signal since hk_install_drain_handler().
int hk_drain_requested(void);

/// Asks the kernel to send this process SIGTERM when its parent dies (Linux only; a no-op elsewhere),
/// so that workers never outlive their supervisor. prctl is variadic and cannot be called from Swift.
int hk_terminate_with_parent(void);

/// Whether `needle` occurs in `haystack`: glibc's memmem, which Swift's Glibc module does not
/// export (it is a GNU extension).
int hk_contains_bytes(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length);

/// accept4 with SOCK_CLOEXEC, so that a child spawned by another thread at that moment never
/// inherits the connection (accept4 is a GNU extension that Swift's Glibc module does not export).
int hk_accept_close_on_exec(int listening);

#endif
