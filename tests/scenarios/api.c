/* The test API, linked in: api MODE, printing what the calls return.
   clean        threads created and joined: verify_none returns 0, and how long it took
   leak         one thread left blocked: verify_none returns 1 and reports it
   late         a detached thread that ends 200 ms later: not a leak with the default timeout
   starting     a thread busy for 50 ms before its wait, and one busy for ever, checked at once:
                the first is reported in its wait, the second running
   baseline     threads from before a snapshot are not leaks; one after it is
   suppress     three blocked threads, and verify_none with each kind of rule
   malformed    a bad rule is named with its line, the good one still applies
   concurrent   two threads verifying at once
   forked       verify_none in a fork child
   dump         threadleak_dump in json to a file given as the second argument
   dlopen       a dump, then a library (second argument) loaded: a dump to the third names it */
#define _GNU_SOURCE
#include <threadleak.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static int waiting; /* under lock: how many waiters are in their wait */

#define WAITER(name)                                                                               \
    static void *wait_##name(void *arg)                                                            \
    {                                                                                              \
        pthread_mutex_lock(&lock);                                                                 \
        waiting++;                                                                                 \
        for (;;)                                                                                   \
            pthread_cond_wait(&never, &lock);                                                      \
        return arg;                                                                                \
    }
WAITER(alpha)
WAITER(beta)
WAITER(gamma)

static pthread_t spawn(void *(*fn)(void *), const char *name)
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, NULL) != 0)
        exit(90);
    if (name)
        pthread_setname_np(t, name);
    return t;
}

static void make_alpha(void)
{
    spawn(wait_alpha, "alpha");
}
static void make_beta(void)
{
    spawn(wait_beta, "beta");
}
static void make_gamma(void)
{
    spawn(wait_gamma, "gamma");
}

static void *nothing(void *arg)
{
    return arg;
}

static void *end_later(void *arg)
{
    usleep(200000);
    return arg;
}

static double ms_since(struct timespec a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
}

static void *start_slowly(void *arg)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (ms_since(start) < 50)
        ; /* busy, in no wait */
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock);
    return arg;
}

static void *spin(void *arg)
{
    for (;;)
        __asm__ volatile("" ::: "memory");
    return arg;
}

static int verify(const char *suppressions, unsigned timeout_ms, const threadleak_snapshot *base)
{
    threadleak_opts o = THREADLEAK_OPTS_INIT;
    o.timeout_ms = timeout_ms;
    o.suppressions = suppressions;
    o.baseline = base;
    return threadleak_verify_none(&o);
}

static pthread_barrier_t both;

static void *concurrent_check(void *leak)
{
    pthread_barrier_wait(&both); /* both checkers exist: each snapshot holds the other */
    threadleak_snapshot *snap = threadleak_snapshot_take();
    pthread_barrier_wait(&both);
    if (leak)
        make_alpha();
    pthread_barrier_wait(&both);
    int rc = verify(NULL, 300, snap);
    threadleak_snapshot_free(snap);
    return (void *)(long)rc;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    struct timespec start;
    if (strcmp(mode, "clean") == 0) {
        for (int i = 0; i < 4; i++)
            pthread_join(spawn(nothing, NULL), NULL);
        clock_gettime(CLOCK_MONOTONIC, &start);
        int rc = threadleak_verify_none(NULL);
        printf("rc=%d ms=%.1f\n", rc, ms_since(start));
    } else if (strcmp(mode, "leak") == 0) {
        make_alpha();
        clock_gettime(CLOCK_MONOTONIC, &start);
        int rc = threadleak_verify_none(NULL);
        printf("rc=%d ms=%.1f\n", rc, ms_since(start));
    } else if (strcmp(mode, "late") == 0) {
        pthread_detach(spawn(end_later, NULL));
        printf("rc=%d\n", threadleak_verify_none(NULL));
    } else if (strcmp(mode, "starting") == 0) {
        spawn(start_slowly, NULL);
        spawn(spin, "spin");
        printf("rc=%d\n", verify(NULL, 0, NULL));
    } else if (strcmp(mode, "baseline") == 0) {
        make_alpha();
        make_beta();
        threadleak_snapshot *snap = threadleak_snapshot_take();
        printf("with baseline rc=%d\n", verify(NULL, 100, snap));
        make_gamma();
        printf("one more rc=%d\n", verify(NULL, 100, snap));
        printf("without baseline rc=%d\n", verify(NULL, 100, NULL));
        threadleak_snapshot_free(snap);
    } else if (strcmp(mode, "suppress") == 0) {
        make_alpha();
        make_beta();
        make_gamma();
        printf("none rc=%d\n", verify(NULL, 100, NULL));
        printf("blocked rc=%d\n", verify("blocked:wait_al*", 100, NULL));
        printf("created rc=%d\n", verify("# a comment\ncreated:make_beta", 100, NULL));
        printf("name rc=%d\n", verify("name:gam*", 100, NULL));
        printf("all rc=%d\n",
               verify("blocked:wait_alpha\ncreated:*beta*\n\nname:gamma # the last", 100, NULL));
    } else if (strcmp(mode, "malformed") == 0) {
        make_alpha();
        make_beta();
        printf("rc=%d\n", verify("name:alpha\nbogus rule\nblocked:", 100, NULL));
    } else if (strcmp(mode, "concurrent") == 0) {
        pthread_barrier_init(&both, NULL, 2);
        pthread_t a = spawn(concurrent_check, NULL), b;
        if (pthread_create(&b, NULL, concurrent_check, (void *)1) != 0)
            return 90;
        void *ra, *rb;
        pthread_join(a, &ra);
        pthread_join(b, &rb);
        printf("a=%ld b=%ld\n", (long)ra, (long)rb);
    } else if (strcmp(mode, "forked") == 0) {
        make_alpha();
        /* Fork once alpha waits: a thread still starting may hold the allocator's locks, which
           the child would inherit held (AddressSanitizer's allocator does not lock around fork). */
        for (int in = 0; !in; usleep(1000)) {
            pthread_mutex_lock(&lock);
            in = waiting;
            pthread_mutex_unlock(&lock);
        }
        pid_t pid = fork();
        if (pid == 0) {
            int clean = threadleak_verify_none(NULL);
            make_beta();
            int leaked = verify(NULL, 100, NULL);
            printf("child clean=%d leaked=%d\n", clean, leaked);
            fflush(stdout);
            _exit(0);
        }
        waitpid(pid, NULL, 0);
    } else if (strcmp(mode, "dlopen") == 0 && argc > 3) {
        /* A report, then a module loaded and a thread started in it: the next report names it. */
        FILE *null = fopen("/dev/null", "w"), *out = fopen(argv[3], "w");
        threadleak_opts o = THREADLEAK_OPTS_INIT;
        o.out = null;
        threadleak_dump(&o);
        if (!dlopen(argv[2], RTLD_NOW))
            return 91;
        usleep(20000);
        o.format = "json";
        o.out = out;
        printf("rc=%d\n", threadleak_dump(&o));
        fclose(null);
        fclose(out);
    } else if (strcmp(mode, "dump") == 0 && argc > 2) {
        make_alpha();
        for (int in = 0; !in; usleep(1000)) {
            pthread_mutex_lock(&lock); /* held by alpha until its cond_wait releases it */
            in = waiting;
            pthread_mutex_unlock(&lock);
        }
        FILE *out = fopen(argv[2], "w");
        threadleak_opts o = THREADLEAK_OPTS_INIT;
        o.format = "json";
        o.out = out;
        int rc = threadleak_dump(&o);
        fclose(out);
        o.format = "xml";
        printf("rc=%d bad format rc=%d\n", rc, threadleak_dump(&o));
    } else {
        return 2;
    }
    fflush(stdout);
    _exit(0); /* no exit report: these runs check the API alone */
}
