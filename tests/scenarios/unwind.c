/* Stacks unwound from the .eh_frame rules of optimised code: built at -O2 without frame pointers
   (tests/CMakeLists.txt), four threads wait five calls deep, through a frame of 4 KiB and one of
   variable size (whose rules count from the frame pointer all the same). The first wait a report
   unwinds goes through libunwind, the others through the fast path (report/unwind.c): the same
   stack from both, or the threads fall into two groups. */
#include <alloca.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define THREADS 4

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int waiting;
static volatile int sink;

__attribute__((noinline)) static int wait_deep(int x)
{
    pthread_mutex_lock(&lock);
    waiting++;
    pthread_cond_wait(&never, &lock); /* wait-site */
    return x;
}

__attribute__((noinline)) static int with_vla(int n)
{
    char *scratch = alloca((size_t)n);
    scratch[n - 1] = (char)n;
    int r = wait_deep(scratch[n - 1]); /* vla-site */
    sink = scratch[0];
    return r + 1;
}

__attribute__((noinline)) static int with_big_frame(int n)
{
    volatile char page[4096];
    page[n] = 1;
    int r = with_vla(n + 100); /* big-site */
    return r + page[n];
}

__attribute__((noinline)) static int level1(int n)
{
    int r = with_big_frame(n * 2); /* level1-site */
    sink = r;
    return r + 1;
}

static void *deep_thread(void *arg)
{
    sink = level1((int)(long)arg); /* thread-site */
    return NULL;
}

int main(void)
{
    for (long i = 0; i < THREADS; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, deep_thread, (void *)(i + 1)) != 0)
            exit(90);
    }
    /* A thread counts itself holding the lock, which only its cond_wait lets go: once main holds
       it with every thread counted, every wait is recorded. */
    for (int n = 0; n < THREADS; usleep(1000)) {
        pthread_mutex_lock(&lock);
        n = waiting;
        pthread_mutex_unlock(&lock);
    }
    return 0;
}
