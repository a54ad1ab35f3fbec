/* The design choice behind recorded waits, measured: what it costs per wait to unwind the stack
   there (unw_backtrace), against saving the registers to unwind from later (unw_getcontext).
   Prints nanoseconds per call for each, at a call depth of about ten frames. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <stdio.h>
#include <time.h>

#define CALLS 1000000

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static unw_context_t ctx;
static void *frames[64];

__attribute__((noinline)) static void measure(int depth)
{
    if (depth > 0) {
        measure(depth - 1);
        __asm__ volatile("" ::: "memory"); /* no tail call: keep the frames */
        return;
    }
    double a = now();
    for (int i = 0; i < CALLS; i++)
        unw_backtrace(frames, 64);
    double b = now();
    for (int i = 0; i < CALLS; i++)
        unw_getcontext(&ctx);
    double c = now();
    printf("unw_backtrace  %.1f ns per wait\nunw_getcontext %.1f ns per wait\n",
           (b - a) * 1e9 / CALLS, (c - b) * 1e9 / CALLS);
}

int main(void)
{
    measure(8);
    return 0;
}
