#include "CSupport.h"

#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

int hk_terminate_with_parent(void) {
#ifdef __linux__
    return prctl(PR_SET_PDEATHSIG, SIGTERM);
#else
    return 0;
#endif
}
