/* The ways a thread ends, or does not: lifecycle MODE, MODE one of
   unjoined, detached, joined, pthread_exit, cancel, named, main_exits, finishing, lingering,
   cloned, cloned_alone. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHECK(call)                                                                                \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_) {                                                                                 \
            fprintf(stderr, "%s: %s\n", #call, strerror(rc_));                                     \
            exit(90);                                                                              \
        }                                                                                          \
    } while (0)

static atomic_int finished;

static void *quick(void *arg)
{
    atomic_fetch_add(&finished, 1);
    return arg;
}

static void wait_finished(int n)
{
    while (atomic_load(&finished) < n)
        usleep(1000);
    usleep(20000); /* past the return, through the thread's last lines */
}

static void start_unjoined(void)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, quick, NULL));
}

static void start_detached(void)
{
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    CHECK(pthread_create(&t, &attr, quick, NULL)); /* detached by its attributes */
    pthread_attr_destroy(&attr);
    CHECK(pthread_create(&t, NULL, quick, NULL)); /* detached while it may still run */
    CHECK(pthread_detach(t));
    wait_finished(2);
    CHECK(pthread_create(&t, NULL, quick, NULL)); /* detached after it has finished */
    wait_finished(3);
    CHECK(pthread_detach(t));
}

static void join_every_way(void)
{
    pthread_t t;
    void *ret;
    struct timespec until;
    CHECK(pthread_create(&t, NULL, quick, (void *)1));
    CHECK(pthread_join(t, &ret));
    if (ret != (void *)1)
        exit(91);
    CHECK(pthread_create(&t, NULL, quick, NULL));
    while (pthread_tryjoin_np(t, NULL) != 0)
        usleep(1000);
    CHECK(pthread_create(&t, NULL, quick, NULL));
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    CHECK(pthread_timedjoin_np(t, NULL, &until));
    CHECK(pthread_create(&t, NULL, quick, NULL));
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 10;
    CHECK(pthread_clockjoin_np(t, NULL, CLOCK_MONOTONIC, &until));
}

static void leave_through_pthread_exit(int depth)
{
    if (depth == 0)
        pthread_exit(NULL);
    leave_through_pthread_exit(depth - 1);
}

static void *exits_early(void *arg)
{
    leave_through_pthread_exit(3);
    return arg;
}

static void start_exiting(void)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, exits_early, NULL));
    CHECK(pthread_join(t, NULL));
    CHECK(pthread_create(&t, NULL, exits_early, NULL)); /* this one is never joined */
}

static int order[2], ran;
static void cleanup(void *which)
{
    order[ran++] = (int)(long)which;
}

static void *cancellable(void *arg)
{
    pthread_cleanup_push(cleanup, (void *)1);
    pthread_cleanup_push(cleanup, (void *)2);
    for (;;)
        pause();
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return arg;
}

static void cancel_one(void)
{
    pthread_t t;
    void *ret;
    CHECK(pthread_create(&t, NULL, cancellable, NULL));
    usleep(20000);
    CHECK(pthread_cancel(t));
    CHECK(pthread_join(t, &ret));
    printf("cancelled=%d cleanup order: %d %d\n", ret == PTHREAD_CANCELED, order[0], order[1]);
}

static void *named_poller(void *arg)
{
    pthread_setname_np(pthread_self(), "db-poller");
    for (;;)
        pause();
    return arg;
}

static void *pause_for_ever(void *arg)
{
    for (;;)
        pause();
    return arg;
}

/* Names itself with prctl, then starts a thread, which inherits the name. */
static void *prctl_namer(void *arg)
{
    pthread_t t;
    prctl(PR_SET_NAME, "by-prctl", 0, 0, 0);
    CHECK(pthread_create(&t, NULL, pause_for_ever, NULL));
    return pause_for_ever(arg);
}

static void start_named(void)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, named_poller, NULL));
    CHECK(pthread_create(&t, NULL, named_poller, NULL));
    usleep(20000);
    CHECK(pthread_setname_np(t, "renamed"));
    CHECK(pthread_create(&t, NULL, prctl_namer, NULL));
    prctl(PR_SET_NAME, "main-renamed", 0, 0, 0);
    CHECK(pthread_create(&t, NULL, pause_for_ever, NULL));
    usleep(20000);
}

static atomic_int sleeper; /* the tid of the thread about to sleep */

static void *finish_later(void *arg)
{
    usleep(1000); /* its first call binds (and, in an emulator, translates) what the next needs */
    atomic_store(&sleeper, gettid());
    usleep(500000);
    return arg;
}

/* Whether a thread sleeps in the kernel: after its store, only in its usleep. */
static int asleep(int tid)
{
    char path[64], stat[256] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    FILE *f = fopen(path, "r");
    if (f) {
        fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
    }
    return strstr(stat, ") S ") != NULL;
}

/* A detached thread still sleeping its last 500 ms when main returns (time enough for an emulated
   exit report to come first): main sees it asleep, not only about to sleep. */
static void finish_after_main(void)
{
    pthread_t t;
    int tid;
    CHECK(pthread_create(&t, NULL, finish_later, NULL));
    CHECK(pthread_detach(t));
    while (!(tid = atomic_load(&sleeper)) || !asleep(tid))
        ;
}

/* A detached thread that sleeps on past the exit (a runtime's own, as node's inspector). */
static void *linger(void *arg)
{
    sleep(600);
    return arg;
}

static void start_lingering(void)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, linger, NULL));
    CHECK(pthread_detach(t));
}

/* Two threads made through pthread_create, blocked for good, beside one made by a bare clone(),
   which the library never sees made: it sleeps in ppoll, touching nothing of glibc's thread
   state (it has none of its own). */
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t never_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int blocked, cloned_tid;

static void *block_for_good(void *arg)
{
    pthread_mutex_lock(&never_lock);
    atomic_fetch_add(&blocked, 1);
    for (;;)
        pthread_cond_wait(&never, &never_lock);
    return arg;
}

static int sleep_unseen(void *arg)
{
    atomic_store(&cloned_tid, (int)syscall(SYS_gettid));
    for (;;)
        syscall(SYS_ppoll, NULL, 0, NULL, NULL, 0);
    return arg != NULL;
}

static void clone_beside_two(void)
{
    static char stack[64 << 10] __attribute__((aligned(16)));
    pthread_t t;
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t, NULL, block_for_good, NULL));
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    if (clone(sleep_unseen, stack + sizeof stack, flags, NULL) < 0)
        exit(91);
    while (atomic_load(&blocked) < 2 || !atomic_load(&cloned_tid))
        usleep(1000);
    usleep(20000);
}

/* No thread but one made by a bare clone(). */
static void clone_alone(void)
{
    static char stack[64 << 10] __attribute__((aligned(16)));
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    if (clone(sleep_unseen, stack + sizeof stack, flags, NULL) < 0)
        exit(91);
    while (!atomic_load(&cloned_tid))
        usleep(1000);
    usleep(20000);
}

/* main leaves through pthread_exit: the process exits when its last thread ends (the library's
   helper thread sees to it, and runs the exit report). */
static void main_leaves_first(void)
{
    pthread_t t;
    start_unjoined();
    wait_finished(1);
    CHECK(pthread_create(&t, NULL, finish_later, NULL));
    pthread_exit(NULL);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "unjoined") == 0) {
        start_unjoined();
        wait_finished(1);
    } else if (strcmp(mode, "detached") == 0) {
        start_detached();
    } else if (strcmp(mode, "joined") == 0) {
        join_every_way();
    } else if (strcmp(mode, "pthread_exit") == 0) {
        start_exiting();
        usleep(20000);
    } else if (strcmp(mode, "cancel") == 0) {
        cancel_one();
    } else if (strcmp(mode, "cloned") == 0) {
        clone_beside_two();
    } else if (strcmp(mode, "cloned_alone") == 0) {
        clone_alone();
    } else if (strcmp(mode, "lingering") == 0) {
        start_lingering();
    } else if (strcmp(mode, "finishing") == 0) {
        finish_after_main();
    } else if (strcmp(mode, "main_exits") == 0) {
        main_leaves_first();
    } else if (strcmp(mode, "named") == 0) {
        start_named();
    } else {
        return 2;
    }
    return 0;
}
