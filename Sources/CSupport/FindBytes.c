#define _GNU_SOURCE
#include "CSupport.h"

#include <string.h>

int hk_contains_bytes(const void *haystack, size_t haystack_length, const void *needle, size_t needle_length) {
    return memmem(haystack, haystack_length, needle, needle_length) != NULL;
}
