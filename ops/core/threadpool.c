/*
 * The kernels' thread pool (threadpool.h): one process-wide set of worker
 * threads, started on first use and grown on demand, that one loop at a
 * time may hold.
 *
 * A loop is published as a generation: its function, argument, index count
 * and thread count, then the claim ticket (generation << 32 | next index),
 * then the generation word itself, on which sleeping workers wait (a Linux
 * futex). Every thread, the caller included, claims indices by compare-and-
 * swap on the ticket, so an index runs exactly once, and the caller waits
 * only for indices that some thread has claimed and not yet finished. A
 * worker that reads the loop's fields late may see a later loop's values;
 * its claim then fails, because the later loop replaced the ticket (with a
 * closed one) before it wrote any field.
 */
#define _GNU_SOURCE /* syscall */
#include "threadpool.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

#define POOL_MAX_WORKERS 4095
#define TICKET_CLOSED 0xffffffffu
/* Time is read once per this many pause instructions while spinning. */
#define SPIN_BATCH 32

static struct {
    atomic_int busy;              /* a loop holds the pool */
    atomic_uint gen;              /* generation: the futex word */
    atomic_int sleepers;          /* workers in (or entering) futex_wait */
    atomic_uint_least64_t ticket; /* gen << 32 | next index to claim */
    atomic_long done;             /* indices of this loop finished */
    _Atomic(onn_task_fn) fn;
    _Atomic(void *) arg;
    atomic_long count;
    atomic_int threads;
    int started; /* workers running; changed under busy */
    unsigned start_gen[POOL_MAX_WORKERS + 1];
} pool;

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static int spin_us = 100;

/* After fork() the child has none of the workers: start again. */
static void pool_forget(void)
{
    pool.started = 0;
    atomic_store(&pool.sleepers, 0);
    atomic_store(&pool.busy, 0);
}

static void pool_init(void)
{
    const char *s = getenv("ONNORM_SPIN_US");
    if (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end == '\0' && v >= 0 && v <= 1000000) spin_us = (int)v;
    }
    pthread_atfork(NULL, NULL, pool_forget);
}

int onn_pool_spin_us(void)
{
    pthread_once(&pool_once, pool_init);
    return spin_us;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void futex_wait(atomic_uint *word, unsigned expected)
{
#ifdef __linux__
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
#else
    (void)word;
    (void)expected;
    sched_yield();
#endif
}

static void futex_wake_all(atomic_uint *word)
{
#ifdef __linux__
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)word;
#endif
}

/* Waits for a generation other than `seen`: spinning for the spin budget
 * (when `spin`), then asleep on the futex. */
static unsigned wait_for_loop(unsigned seen, bool spin)
{
    const int64_t deadline = now_ns() + (spin ? (int64_t)spin_us * 1000 : 0);
    for (;;) {
        for (int i = 0; i < SPIN_BATCH; i++) {
            unsigned g = atomic_load_explicit(&pool.gen, memory_order_acquire);
            if (g != seen) return g;
            cpu_relax();
        }
        if (now_ns() >= deadline) break;
    }
    atomic_fetch_add(&pool.sleepers, 1);
    unsigned g;
    while ((g = atomic_load(&pool.gen)) == seen)
        futex_wait(&pool.gen, seen);
    atomic_fetch_sub(&pool.sleepers, 1);
    return g;
}

/* Claims and runs indices of loop `g` until none is left (or the loop is
 * over and another has begun). False when the loop has fewer threads than
 * would include this worker. */
static bool claim_and_run(unsigned g, int worker)
{
    for (;;) {
        uint_least64_t t = atomic_load_explicit(&pool.ticket, memory_order_acquire);
        if ((unsigned)(t >> 32) != g) return true;
        const int threads = atomic_load_explicit(&pool.threads, memory_order_acquire);
        const long count = atomic_load_explicit(&pool.count, memory_order_acquire);
        const onn_task_fn fn = atomic_load_explicit(&pool.fn, memory_order_acquire);
        void *arg = atomic_load_explicit(&pool.arg, memory_order_acquire);
        const uint32_t i = (uint32_t)t;
        if (worker >= threads) return false;
        if (i == TICKET_CLOSED || (long)i >= count) return true;
        if (!atomic_compare_exchange_weak_explicit(&pool.ticket, &t, t + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue;
        fn(arg, (int64_t)i, worker);
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    }
}

static void *worker_main(void *p)
{
    const int id = (int)(intptr_t)p;
    unsigned seen = pool.start_gen[id];
    bool spin = true;
    for (;;) {
        seen = wait_for_loop(seen, spin);
        /* A worker that a loop leaves out (a process whose sessions use
         * fewer threads than it once did) goes back to sleep at once
         * rather than spin beside the threads that work. */
        spin = claim_and_run(seen, id);
    }
    return NULL;
}

/* Starts workers until `want` run (or one fails to start); under busy. */
static void start_workers(int want)
{
    if (want > POOL_MAX_WORKERS) want = POOL_MAX_WORKERS;
    if (pool.started >= want) return;
    sigset_t all, old;
    sigfillset(&all);
    /* Workers inherit a mask blocking every signal: a process's signals
     * go to its own threads. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    bool attr_ok = pthread_attr_init(&attr) == 0;
    if (attr_ok) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (pool.started < want) {
        const int id = pool.started + 1;
        pool.start_gen[id] = atomic_load(&pool.gen);
        pthread_t tid;
        if (pthread_create(&tid, attr_ok ? &attr : NULL, worker_main, (void *)(intptr_t)id) != 0)
            break;
        if (!attr_ok) pthread_detach(tid);
        pool.started++;
    }
    if (attr_ok) pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void run_here(int64_t count, onn_task_fn fn, void *arg)
{
    for (int64_t i = 0; i < count; i++)
        fn(arg, i, 0);
}

void onn_parallel_for(int threads, int64_t count, onn_task_fn fn, void *arg)
{
    if (count <= 0) return;
    if (threads <= 1 || count == 1 || count > (int64_t)INT32_MAX - 1) {
        run_here(count, fn, arg);
        return;
    }
    pthread_once(&pool_once, pool_init);
    int expected = 0;
    if (!atomic_compare_exchange_strong(&pool.busy, &expected, 1)) {
        run_here(count, fn, arg);
        return;
    }
    start_workers(threads - 1);
    if (threads > pool.started + 1) threads = pool.started + 1;
    if (threads <= 1) {
        atomic_store(&pool.busy, 0);
        run_here(count, fn, arg);
        return;
    }
    const unsigned g = atomic_load_explicit(&pool.gen, memory_order_relaxed) + 1;
    /* Close the ticket before touching the fields (see the top). */
    atomic_store(&pool.ticket, (uint_least64_t)g << 32 | TICKET_CLOSED);
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.fn, fn, memory_order_release);
    atomic_store_explicit(&pool.arg, arg, memory_order_release);
    atomic_store_explicit(&pool.count, (long)count, memory_order_release);
    atomic_store_explicit(&pool.threads, threads, memory_order_release);
    atomic_store_explicit(&pool.ticket, (uint_least64_t)g << 32, memory_order_release);
    atomic_store(&pool.gen, g);
    if (atomic_load(&pool.sleepers) > 0) futex_wake_all(&pool.gen);

    (void)claim_and_run(g, 0);
    /* Every index is claimed; wait for the ones still running elsewhere. */
    const int64_t deadline = now_ns() + (int64_t)spin_us * 1000;
    while (atomic_load_explicit(&pool.done, memory_order_acquire) < (long)count) {
        for (int i = 0; i < SPIN_BATCH; i++)
            cpu_relax();
        if (now_ns() >= deadline) sched_yield();
    }
    atomic_store_explicit(&pool.busy, 0, memory_order_release);
}

typedef struct range_job {
    onn_range_fn fn;
    void *arg;
    int64_t n, parts;
} range_job;

static void range_part(void *arg, int64_t i, int worker)
{
    const range_job *j = arg;
    const int64_t q = j->n / j->parts, r = j->n % j->parts;
    const int64_t b = i * q + (i < r ? i : r);
    j->fn(j->arg, b, b + q + (i < r ? 1 : 0), worker);
}

void onn_parallel_range(int threads, int64_t n, onn_range_fn fn, void *arg)
{
    if (n <= 0) return;
    if (threads <= 1) {
        fn(arg, 0, n, 0);
        return;
    }
    int64_t parts = (int64_t)threads * ONN_POOL_PARTS;
    if (parts > n) parts = n;
    range_job j = {fn, arg, n, parts};
    onn_parallel_for(threads, parts, range_part, &j);
}
