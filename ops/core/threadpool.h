/*
 * onnorm's own thread pool, for the kernels' parallel loops.
 *
 * Why not an OpenMP team: a parallel region ends in a barrier that waits
 * for every thread of the team, so a region that a woken or descheduled
 * thread joins late finishes late, and libgomp's waiting threads either
 * spin without bound (ruinous when another process holds a core) or sleep
 * (a futex wake-up per region, 20-60 us on this VM, paid by every one of a
 * small network's 50-100 nodes). Here the loop's indices are claimed one at
 * a time from a shared counter, the calling thread included: a thread that
 * has not arrived yet claims nothing and is not waited for, and idle
 * workers spin for a bounded time (ONNORM_SPIN_US, default 100 us) before
 * they sleep.
 */
#ifndef ONNORM_THREADPOOL_H
#define ONNORM_THREADPOOL_H

#include <stdint.h>

/* One index of a parallel loop. `worker` identifies the thread running it,
 * 0 <= worker < the loop's thread count (0 is the calling thread), for
 * per-thread scratch; two calls with the same worker never overlap. */
typedef void (*onn_task_fn)(void *arg, int64_t index, int worker);

/* fn(arg, i, worker) once for every i in [0, count), on up to `threads`
 * threads, returning when every call has returned. Runs every index on the
 * calling thread (worker 0) when threads <= 1 or count <= 1, when the pool
 * is in use (another thread's loop, or a call from inside a task), or when
 * no worker thread could be started. count may not exceed 2^31 - 1 (larger
 * loops run on the caller). */
void onn_parallel_for(int threads, int64_t count, onn_task_fn fn, void *arg);

/* One contiguous range [begin, end) of a loop, on thread `worker`. */
typedef void (*onn_range_fn)(void *arg, int64_t begin, int64_t end, int worker);

/* fn over [0, n) cut into contiguous ranges, ONN_POOL_PARTS per thread
 * (fewer when n is smaller), claimed as onn_parallel_for's indices: a
 * thread that arrives late finds its share taken by the others. */
#define ONN_POOL_PARTS 4
void onn_parallel_range(int threads, int64_t n, onn_range_fn fn, void *arg);

/* The spin budget idle workers use before sleeping, in microseconds (from
 * ONNORM_SPIN_US, read once; 0 sleeps at once). */
int onn_pool_spin_us(void);

#endif
