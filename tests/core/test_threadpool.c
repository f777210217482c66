/*
 * The kernels' thread pool (ops/core/threadpool.h), called directly.
 *
 * Every loop records, per index, how many times it ran and on which worker,
 * and checks after the loop that each index ran exactly once, that every
 * worker number is below the loop's thread count, and that no two calls
 * ran on the same worker at once (a per-worker busy flag, set on entry,
 * must be clear then). Loops of 0 to 10 000 indices at 1 to 5 threads,
 * ranges that must tile [0, n) without gaps or overlap, a loop started
 * from inside a task (it must run whole on that thread), two host threads
 * using the pool at once (one of them runs its loop alone), tens of
 * thousands of tiny loops in a row (a lost wake-up or a late worker
 * claiming from the wrong loop would hang or miscount), and loops that
 * start after the workers have fallen asleep.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/core/threadpool.h"

#define MAX_INDICES 10000
#define MAX_WORKERS 8

typedef struct record {
    int threads;
    atomic_int runs[MAX_INDICES];
    atomic_int busy[MAX_WORKERS];
    atomic_int bad_worker, overlap;
    atomic_int on_worker[MAX_WORKERS];
    int spin; /* work per index, in loop iterations */
} record;

static void burn(int n)
{
    volatile float s = 0.0f;
    for (int i = 0; i < n; i++)
        s = s + (float)i;
}

static void enter(record *r, int worker)
{
    if (worker < 0 || worker >= r->threads || worker >= MAX_WORKERS) {
        atomic_fetch_add(&r->bad_worker, 1);
        return;
    }
    if (atomic_exchange(&r->busy[worker], 1)) atomic_fetch_add(&r->overlap, 1);
    atomic_fetch_add(&r->on_worker[worker], 1);
}

static void leave(record *r, int worker)
{
    if (worker >= 0 && worker < MAX_WORKERS) atomic_store(&r->busy[worker], 0);
}

static void index_task(void *arg, int64_t i, int worker)
{
    record *r = arg;
    enter(r, worker);
    atomic_fetch_add(&r->runs[i], 1);
    burn(r->spin);
    leave(r, worker);
}

static void range_task(void *arg, int64_t b, int64_t e, int worker)
{
    record *r = arg;
    enter(r, worker);
    for (int64_t i = b; i < e; i++)
        atomic_fetch_add(&r->runs[i], 1);
    burn(r->spin * (int)(e - b));
    leave(r, worker);
}

static record *fresh(int threads, int spin)
{
    record *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->threads = threads;
    r->spin = spin;
    return r;
}

static void expect_once(const record *r, int64_t n, const char *what)
{
    for (int64_t i = 0; i < n; i++)
        if (atomic_load(&r->runs[i]) != 1)
            fail_msg("%s: index %lld of %lld ran %d times (threads %d)", what, (long long)i,
                     (long long)n, atomic_load(&r->runs[i]), r->threads);
    for (int64_t i = n; i < MAX_INDICES; i++)
        if (atomic_load(&r->runs[i]) != 0)
            fail_msg("%s: index %lld past the end ran", what, (long long)i);
    assert_int_equal(atomic_load(&r->bad_worker), 0);
    assert_int_equal(atomic_load(&r->overlap), 0);
}

static void every_index_once(void **state)
{
    (void)state;
    const int64_t counts[] = {0, 1, 2, 3, 7, 8, 64, 1000, MAX_INDICES};
    for (int threads = 1; threads <= 5; threads++)
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++)
            for (int spin = 0; spin <= 2000; spin += 2000) {
                record *r = fresh(threads, spin);
                onn_parallel_for(threads, counts[c], index_task, r);
                expect_once(r, counts[c], "onn_parallel_for");
                free(r);
                r = fresh(threads, spin);
                onn_parallel_range(threads, counts[c], range_task, r);
                expect_once(r, counts[c], "onn_parallel_range");
                free(r);
            }
}

/* With real work per index and 2+ threads, the workers take part (on this
 * machine's 2+ cores; a loaded machine may leave one late, so it is enough
 * that some worker other than the caller ran something in one of several
 * loops). */
static void workers_take_part(void **state)
{
    (void)state;
    int helped = 0;
    for (int round = 0; round < 20 && !helped; round++) {
        record *r = fresh(2, 200000);
        onn_parallel_for(2, 16, index_task, r);
        expect_once(r, 16, "two threads");
        helped = atomic_load(&r->on_worker[1]) > 0;
        free(r);
    }
    assert_true(helped);
}

typedef struct nest {
    record *outer, *inner[4];
} nest;

static void nested_task(void *arg, int64_t i, int worker)
{
    nest *n = arg;
    index_task(n->outer, i, worker);
    /* The pool is held by the outer loop: this one runs here, as worker 0. */
    onn_parallel_for(3, 50, index_task, n->inner[i]);
}

static void loop_inside_a_task(void **state)
{
    (void)state;
    nest n = {fresh(3, 1000), {0}};
    for (int i = 0; i < 4; i++)
        n.inner[i] = fresh(1, 1000);
    onn_parallel_for(3, 4, nested_task, &n);
    expect_once(n.outer, 4, "outer loop");
    for (int i = 0; i < 4; i++) {
        expect_once(n.inner[i], 50, "inner loop");
        free(n.inner[i]);
    }
    free(n.outer);
}

static void *host_thread(void *arg)
{
    record *r = arg;
    for (int k = 0; k < 200; k++) {
        memset(r->runs, 0, sizeof r->runs);
        onn_parallel_range(2, 500, range_task, r);
        for (int i = 0; i < 500; i++)
            if (atomic_load(&r->runs[i]) != 1) atomic_fetch_add(&r->bad_worker, 1000);
    }
    return NULL;
}

static void two_callers_at_once(void **state)
{
    (void)state;
    record *a = fresh(2, 50), *b = fresh(2, 50);
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, host_thread, a), 0);
    assert_int_equal(pthread_create(&tb, NULL, host_thread, b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(atomic_load(&a->bad_worker), 0);
    assert_int_equal(atomic_load(&b->bad_worker), 0);
    assert_int_equal(atomic_load(&a->overlap), 0);
    assert_int_equal(atomic_load(&b->overlap), 0);
    free(a);
    free(b);
}

static void many_tiny_loops(void **state)
{
    (void)state;
    record *r = fresh(4, 0);
    for (int k = 0; k < 30000; k++) {
        const int64_t n = 1 + k % 9;
        onn_parallel_for(2 + k % 3, n, index_task, r);
    }
    /* 30000 loops of 1..9 indices: sum of (1 + k % 9). */
    long total = 0, want = 0;
    for (int k = 0; k < 30000; k++)
        want += 1 + k % 9;
    for (int i = 0; i < 9; i++)
        total += atomic_load(&r->runs[i]);
    assert_int_equal(total, want);
    assert_int_equal(atomic_load(&r->bad_worker), 0);
    assert_int_equal(atomic_load(&r->overlap), 0);
    free(r);
}

static void after_sleep(void **state)
{
    (void)state;
    /* Past the spin budget the workers sleep on the futex; a loop must wake
     * them (or run without them) and still cover every index. */
    const long pause_us = onn_pool_spin_us() + 2000;
    for (int k = 0; k < 5; k++) {
        struct timespec ts = {0, pause_us * 1000};
        nanosleep(&ts, NULL);
        record *r = fresh(3, 20000);
        onn_parallel_for(3, 30, index_task, r);
        expect_once(r, 30, "after a sleep");
        free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_index_once),   cmocka_unit_test(workers_take_part),
        cmocka_unit_test(loop_inside_a_task), cmocka_unit_test(two_callers_at_once),
        cmocka_unit_test(many_tiny_loops),    cmocka_unit_test(after_sleep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
