/* Programs that crash, are killed, hang or leave while a report is asked for. Each starts three
   workers blocked for ever on a condition variable (stuck_worker), unless said otherwise, then:

   crash segv          a fourth worker writes to an unmapped address
   crash abort         main calls abort()
   crash assert        main fails an assert
   crash fpe           main divides by zero
   crash overflow      a fourth worker recurses until its stack overflows
   crash overflow_main main recurses until its stack overflows
   crash single        no worker: main writes to an unmapped address
   crash jvm           main installs its own SIGSEGV handler and SIGTERM handler, the way the JVM
                       does (saving the old action to chain to), then faults on purpose three
                       times, recovering each time; prints what it saw and exits 0
   crash jvm_early     the same, the handler installed by a constructor, before main
   crash restore       main installs a SIGSEGV handler, puts SIG_DFL back, then faults
   crash wait          prints "ready PID" and sleeps for ever (to be killed, or to hit a deadline)
   crash deadlock      two workers take two mutexes in opposite orders; main
                       joins them for ever
   crash sleep         no worker: main sleeps 30 s (to hit a deadline)
   crash sleep_return  prints "ready PID", sleeps 30 s (a signal cuts it short), returns 5
   crash slow_exit     prints "ready PID", then exits through an exit handler that sleeps 2 s */
#undef NDEBUG /* the assert scenario needs its assert */
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t first = PTHREAD_MUTEX_INITIALIZER, second = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both;

static void *stuck_worker(void *arg)
{
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock); /* stuck-site */
    return arg;
}

/* An address nothing maps: not NULL, which UBSan would stop at before the fault. */
#define UNMAPPED ((volatile int *)(uintptr_t)16)

static void *crashing_worker(void *arg)
{
    usleep(50000);
    *UNMAPPED = 42; /* segv-site */
    return arg;
}

/* Without UBSan's check, which would end the program before the CPU's. */
__attribute__((no_sanitize("undefined"))) static int divide(int a, int b)
{
    return a / b; /* fpe-site */
}

static int recurse(volatile char *previous)
{
    volatile char frame[256];
    frame[0] = previous ? previous[0] + 1 : 0;
    return recurse(frame) + frame[1]; /* not a tail call */
}

static void *overflowing_worker(void *arg)
{
    usleep(50000);
    return (void *)(long)recurse(arg);
}

static void *lock_in_order(void *arg)
{
    pthread_mutex_t *a = arg ? &second : &first, *b = arg ? &first : &second;
    pthread_mutex_lock(a);
    pthread_barrier_wait(&both);
    pthread_mutex_lock(b); /* deadlock-site */
    return NULL;
}

static void start(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg) != 0)
        exit(90);
}

/* ---- a runtime with its own SIGSEGV handler, as the JVM's ---- */

static struct sigaction chained; /* what was installed before ours */
static char *guard_page;
static volatile sig_atomic_t recovered;

static void runtime_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if ((char *)si->si_addr == guard_page) { /* ours: a safepoint poll, say */
        mprotect(guard_page, 4096, PROT_READ | PROT_WRITE);
        recovered++;
        return;
    }
    if (chained.sa_handler != SIG_DFL && chained.sa_handler != SIG_IGN) { /* chain, as the JVM */
        chained.sa_sigaction(sig, si, uc);
        return;
    }
    signal(sig, SIG_DFL); /* not ours: the default, when the fault repeats */
}

static void install_runtime(void)
{
    struct sigaction sa = {.sa_sigaction = runtime_handler, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &chained);
    guard_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* glibc gives constructors the program's arguments. */
__attribute__((constructor)) static void early_runtime(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "jvm_early") == 0)
        install_runtime();
}

static int run_runtime(void)
{
    if (!guard_page)
        install_runtime();
    struct sigaction now;
    sigaction(SIGSEGV, NULL, &now);
    printf("chained %s, installed %s\n", chained.sa_handler == SIG_DFL ? "default" : "other",
           now.sa_sigaction == runtime_handler ? "ours" : "other");
    for (int i = 0; i < 3; i++) {
        guard_page[0] = 1; /* faults, and the handler lets it through */
        mprotect(guard_page, 4096, PROT_NONE);
    }
    printf("recovered %d\n", (int)recovered);
    return 0;
}

/* ---- leaving ---- */

static void slow_handler(void)
{
    sleep(2);
}

static void ready(void)
{
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "segv";
    int workers =
        strcmp(mode, "single") == 0 || strcmp(mode, "deadlock") == 0 || strcmp(mode, "sleep") == 0
            ? 0
            : 3;
    for (int i = 0; i < workers; i++)
        start(stuck_worker, NULL);
    usleep(20000);
    if (strcmp(mode, "segv") == 0) {
        start(crashing_worker, NULL);
        pause();
    } else if (strcmp(mode, "abort") == 0) {
        abort(); /* abort-site */
    } else if (strcmp(mode, "assert") == 0) {
        assert(workers == 0); /* assert-site */
    } else if (strcmp(mode, "fpe") == 0) {
        volatile int zero = 0;
        return divide(10, zero);
    } else if (strcmp(mode, "overflow") == 0) {
        start(overflowing_worker, NULL);
        pause();
    } else if (strcmp(mode, "overflow_main") == 0) {
        return recurse(NULL);
    } else if (strcmp(mode, "single") == 0) {
        *UNMAPPED = 1;
    } else if (strcmp(mode, "jvm") == 0 || strcmp(mode, "jvm_early") == 0) {
        return run_runtime();
    } else if (strcmp(mode, "restore") == 0) {
        install_runtime();
        signal(SIGSEGV, SIG_DFL);
        *UNMAPPED = 1;
    } else if (strcmp(mode, "wait") == 0) {
        ready();
        for (;;)
            pause();
    } else if (strcmp(mode, "deadlock") == 0) {
        pthread_t a, b;
        pthread_barrier_init(&both, NULL, 2);
        if (pthread_create(&a, NULL, lock_in_order, NULL) != 0 ||
            pthread_create(&b, NULL, lock_in_order, &both) != 0)
            return 90;
        pthread_join(a, NULL);
        pthread_join(b, NULL);
    } else if (strcmp(mode, "sleep") == 0) {
        sleep(30);
    } else if (strcmp(mode, "sleep_return") == 0) {
        ready();
        sleep(30);
        return 5;
    } else if (strcmp(mode, "slow_exit") == 0) {
        atexit(slow_handler);
        ready();
        exit(6);
    }
    return 0;
}
