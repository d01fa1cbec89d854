#define _GNU_SOURCE
#include "SharedWords.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

int hk_create_shared_memory(const char *name, uint64_t size) {
    int descriptor = memfd_create(name, MFD_CLOEXEC);
    if (descriptor < 0) return -1;
    if (ftruncate(descriptor, (off_t)size) != 0) {
        int saved = errno;
        close(descriptor);
        errno = saved;
        return -1;
    }
    return descriptor;
}
