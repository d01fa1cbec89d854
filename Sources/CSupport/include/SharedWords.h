#ifndef HITKEEP_SHARED_WORDS_H
#define HITKEEP_SHARED_WORDS_H

#include <stdint.h>

/* Loads and stores of 64-bit words in memory that several processes map (the pool's scoreboard).
 * Each word has one writing process; these only keep the compiler from tearing, merging or
 * dropping accesses that another process reads, and order them where a reader must see a group of
 * words whole. On x86-64 and arm64 every one of them is a plain load or store: no lock, no system
 * call. Static inline, so that they compile into the caller. */

static inline uint64_t hk_word_load(const uint64_t *word) {
    return __atomic_load_n(word, __ATOMIC_RELAXED);
}

static inline void hk_word_store(uint64_t *word, uint64_t value) {
    __atomic_store_n(word, value, __ATOMIC_RELAXED);
}

/* Adds to a word only this process writes: a load and a store, not a read-modify-write. */
static inline void hk_word_add(uint64_t *word, uint64_t amount) {
    __atomic_store_n(word, __atomic_load_n(word, __ATOMIC_RELAXED) + amount, __ATOMIC_RELAXED);
}

/* Stores `value` after every store before it has become visible: the word announces them. */
static inline void hk_word_publish(uint64_t *word, uint64_t value) {
    __atomic_store_n(word, value, __ATOMIC_RELEASE);
}

/* Loads a published word; the stores it announces are visible after it. */
static inline uint64_t hk_word_acquire(const uint64_t *word) {
    return __atomic_load_n(word, __ATOMIC_ACQUIRE);
}

/* Keeps the loads before it from moving after it: a reader checks a published word again after
 * copying what it announces. */
static inline void hk_fence_acquire(void) {
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}

/* Keeps the stores after it from moving before it: a writer withdraws a published word before
 * overwriting what it announced. */
static inline void hk_fence_release(void) {
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

/* The shared tables (client quota leases, client usage counts) are written by every worker of the
 * pool at once, so their words need true atomic read-modify-writes. Lock-free on x86-64 and arm64:
 * a process killed in the middle of one leaves the word either before or after it, never torn. */

/* Replaces `*word` by `desired` if it still holds `expected`; returns whether it did. */
static inline int hk_word_compare_exchange(uint64_t *word, uint64_t expected, uint64_t desired) {
    return __atomic_compare_exchange_n(word, &expected, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* Adds atomically, whoever else adds at the same time. */
static inline void hk_word_atomic_add(uint64_t *word, uint64_t amount) {
    __atomic_fetch_add(word, amount, __ATOMIC_RELAXED);
}

/* Stores `value` and returns what the word held, in one step. */
static inline uint64_t hk_word_exchange(uint64_t *word, uint64_t value) {
    return __atomic_exchange_n(word, value, __ATOMIC_ACQ_REL);
}

/* A new file of `size` zero bytes in memory only (memfd_create, close-on-exec), whose descriptor a
 * child can inherit and map: anonymous shared memory does not survive exec. Returns the descriptor,
 * or -1 with errno set. memfd_create is a GNU extension that Swift's Glibc module does not export. */
int hk_create_shared_memory(const char *name, uint64_t size);

#endif
