/* A request handler makes a channel on the heap (a mutex, a condition variable, a semaphore),
   starts senders that wait on it, wakes them once from a thread that then ends (their waker is
   gone; not in modes sem, mutex and spinner), and returns early: reach MODE, where MODE says who,
   if anyone, still holds the channel when the program exits.

   returns          the handler returns, nothing holds it: the senders are orphaned
   thread_returns   the handler is a thread that ends (joined), then the same
   detached_returns the handler is a detached thread that ends, then the same
   sem              senders wait on the channel's semaphore; nothing holds it
   sem_posted       the same, after a thread that then ended posted each of them once
   mutex            the handler locks the channel's mutex (main owns it), returns; nothing holds it
   global           a global holds the channel
   list             a global list holds it, two nodes deep in the heap
   interior         a global holds a pointer into the middle of the channel, whose senders wait on a
                    condition variable 4 KiB inside it
   tagged           a global holds the channel's address with its low bit set
   sleeper          a sleeping thread holds it, in its stack
   timer            a timer's sigev_value holds it; timer_deleted: the timer is gone
   epoll            epoll data holds it; epoll_deleted: deleted from the epoll set
   pipe             its address waits in a pipe, unread
   chain            a thread waiting on a global condition variable holds the channel: it may wake
                    and signal it
   chain_heap       a thread waiting on another heap channel, which a global holds, holds it
   chain_orphaned   a thread waiting on another channel nothing holds holds it
   spinner          nothing holds it, but a thread runs: its registers cannot be seen

   Other stories, where the evidence itself could lie (each a thread in job-wait, shared-wait or
   table-wait, under a function of that name):
   reused_initializer  a job slot (a global) served a job whose finisher signalled it and ended;
                       the next job in the slot is set with PTHREAD_COND_INITIALIZER and waited on
   reused_memset       the same, the slot cleared with memset
   reused_sem          the same with the slot's semaphore, destroyed and initialised again
   shared_child        a process-shared mutex that a child process holds; prints the child's pid
   wakers_full         65536 condition variables signalled fill the table of wakers; one more
                       (`lost_cond`) is signalled by a thread that ends; the 65536 are destroyed; then
                       `kept_cond` is signalled by a thread that ends. A thread waits on each,
                       before and after its signal. Prints both addresses. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

typedef struct channel {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    sem_t items;
    char pad[4096];
    pthread_cond_t deep; /* 4 KiB inside */
} channel;

typedef struct node {
    struct node *next;
    channel *ch;
} node;

static const char *mode;
static int senders = 3;
static volatile pid_t sender_tids[3], holder_tid;
static int waits;               /* cond_waits begun by the senders, under the channel's lock */
static void *volatile kept;     /* a global that holds the channel, or a way to it */
static channel *volatile other; /* chain_orphaned: the second channel */
static pthread_barrier_t started;

static void *send_on(void *arg)
{
    channel *ch = arg;
    static int next;
    sender_tids[__atomic_fetch_add(&next, 1, __ATOMIC_RELAXED)] = gettid();
    if (strncmp(mode, "sem", 3) == 0) {
        pthread_barrier_wait(&started);
        for (;;) {
            __atomic_fetch_add(&waits, 1, __ATOMIC_RELAXED);
            sem_wait(&ch->items); /* sender-wait */
        }
    }
    if (strcmp(mode, "mutex") == 0) {
        pthread_barrier_wait(&started);
        pthread_mutex_lock(&ch->lock); /* sender-wait */
        return NULL;
    }
    pthread_barrier_wait(&started);
    pthread_mutex_lock(&ch->lock);
    for (;;) {
        waits++;
        pthread_cond_wait(strcmp(mode, "interior") == 0 ? &ch->deep : &ch->ready, &ch->lock);
    }
    return NULL;
}

/* Until the senders have begun n waits in all (when the lock is free, they are inside them). */
static void await_waits(channel *ch, int n)
{
    for (int tries = 0; tries < 10000; tries++) {
        pthread_mutex_lock(&ch->lock);
        int begun = __atomic_load_n(&waits, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&ch->lock);
        if (begun >= n)
            return;
        usleep(1000);
    }
    exit(94);
}

/* Until the thread *tid (once it has set it) sleeps in the kernel, in its wait: however loaded
   the machine, the report then finds it held in its wrapper. */
static void await_sleeping(volatile pid_t *tid)
{
    for (int tries = 0;; tries++) {
        char path[64], stat[256] = "";
        snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)*tid);
        FILE *f = *tid ? fopen(path, "r") : NULL;
        if (f) {
            if (!fgets(stat, sizeof stat, f))
                stat[0] = 0;
            fclose(f);
        }
        char *state = strrchr(stat, ')');
        if (state && state[2] == 'S')
            return;
        if (tries == 10000)
            exit(95);
        usleep(1000);
    }
}

static channel *channel_new(void)
{
    channel *ch = calloc(1, sizeof *ch);
    pthread_mutex_init(&ch->lock, NULL);
    pthread_cond_init(&ch->ready, NULL);
    pthread_cond_init(&ch->deep, NULL);
    sem_init(&ch->items, 0, 0);
    return ch;
}

static void start_senders(channel *ch)
{
    pthread_barrier_init(&started, NULL, (unsigned)senders + 1);
    for (int i = 0; i < senders; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, send_on, ch) != 0)
            exit(90);
    }
    pthread_barrier_wait(&started);
}

static void *sleep_holding(void *arg)
{
    channel *volatile ch = arg;
    holder_tid = gettid();
    for (;;)
        sleep(1);
    return ch;
}

static void *spin(void *arg)
{
    for (volatile unsigned long n = 0;; n++)
        ;
    return arg;
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

/* Waits for ever on the global `never`, or (chain_orphaned) on a channel nothing else holds,
   holding the other channel in its frame. */
static void *wait_holding(void *arg)
{
    channel *volatile ch = arg;
    holder_tid = gettid();
    if (other) {
        pthread_mutex_lock(&other->lock);
        for (;;)
            pthread_cond_wait(&other->ready, &other->lock);
    }
    pthread_mutex_lock(&gate);
    for (;;)
        pthread_cond_wait(&never, &gate);
    return ch;
}

static void hold_elsewhere(channel *ch)
{
    pthread_t t;
    if (strcmp(mode, "global") == 0) {
        kept = ch;
    } else if (strcmp(mode, "list") == 0) {
        node *b = calloc(1, sizeof *b), *a = calloc(1, sizeof *a);
        b->ch = ch;
        a->next = b;
        kept = a;
    } else if (strcmp(mode, "interior") == 0) {
        kept = &ch->pad[100];
    } else if (strcmp(mode, "tagged") == 0) {
        kept = (void *)((uintptr_t)ch | 1);
    } else if (strcmp(mode, "sleeper") == 0) {
        pthread_create(&t, NULL, sleep_holding, ch);
    } else if (strncmp(mode, "timer", 5) == 0) {
        struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 3};
        ev.sigev_value.sival_ptr = ch;
        timer_t timer;
        if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0)
            exit(91);
        if (strcmp(mode, "timer_deleted") == 0)
            timer_delete(timer);
    } else if (strncmp(mode, "epoll", 5) == 0) {
        int ep = epoll_create1(0), fds[2];
        if (ep < 0 || pipe(fds) != 0)
            exit(92);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = ch};
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev);
        if (strcmp(mode, "epoll_deleted") == 0)
            epoll_ctl(ep, EPOLL_CTL_DEL, fds[0], NULL);
    } else if (strcmp(mode, "pipe") == 0) {
        int fds[2];
        if (pipe(fds) != 0 || write(fds[1], &ch, sizeof ch) != sizeof ch)
            exit(93);
    } else if (strcmp(mode, "chain") == 0) {
        pthread_create(&t, NULL, wait_holding, ch);
    } else if (strcmp(mode, "chain_heap") == 0) {
        other = channel_new(); /* the global `other` holds the channel its waiter waits on */
        pthread_create(&t, NULL, wait_holding, ch);
    } else if (strcmp(mode, "chain_orphaned") == 0) {
        other = channel_new();
        pthread_create(&t, NULL, wait_holding, ch);
        await_sleeping(&holder_tid);
        other = NULL; /* only the waiting thread holds it now */
    } else if (strcmp(mode, "spinner") == 0) {
        pthread_create(&t, NULL, spin, NULL);
    }
}

/* Wakes the senders once, then ends: their only waker is gone. */
static void *signal_once(void *arg)
{
    channel *ch = arg;
    if (strcmp(mode, "sem_posted") == 0) {
        for (int i = 0; i < senders; i++)
            sem_post(&ch->items);
        return NULL;
    }
    pthread_mutex_lock(&ch->lock);
    pthread_cond_broadcast(&ch->ready);
    pthread_cond_broadcast(&ch->deep);
    pthread_mutex_unlock(&ch->lock);
    return NULL;
}

/* The request handler: makes the channel, starts the senders, gives up on them. */
static void *handle_request(void *arg)
{
    channel *ch = channel_new();
    if (strcmp(mode, "mutex") == 0)
        pthread_mutex_lock(&ch->lock);
    start_senders(ch);
    if (strcmp(mode, "mutex") != 0 && strcmp(mode, "sem") != 0 && strcmp(mode, "spinner") != 0) {
        pthread_t t;
        await_waits(ch, senders);
        pthread_create(&t, NULL, signal_once, ch);
        pthread_join(t, NULL);
        await_waits(ch, 2 * senders);
    }
    hold_elsewhere(ch);
    return arg; /* BUG: the senders wait for ever */
}

/* ---- memory reused: one slot of a job pool serves job after job ---- */

typedef struct job {
    pthread_mutex_t lock;
    pthread_cond_t done;
    sem_t posted;
    int finished;
} job;

static job slot;
static volatile pid_t waiter_tid;

static void *job_wait(void *arg)
{
    job *j = arg;
    waiter_tid = gettid();
    if (strcmp(mode, "reused_sem") == 0) {
        sem_wait(&j->posted);
        return NULL;
    }
    pthread_mutex_lock(&j->lock);
    while (!j->finished)
        pthread_cond_wait(&j->done, &j->lock);
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

static void *finish_job(void *arg)
{
    job *j = arg;
    sem_post(&j->posted);
    pthread_mutex_lock(&j->lock);
    j->finished = 1;
    pthread_cond_broadcast(&j->done);
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* A job in the slot, waited for and finished by a thread that ends; then the next job in the same
   slot, whose finisher (main) lives on. */
static void reuse_slot(void)
{
    pthread_t waiter, finisher;
    pthread_mutex_init(&slot.lock, NULL);
    pthread_cond_init(&slot.done, NULL);
    sem_init(&slot.posted, 0, 0);
    pthread_create(&waiter, NULL, job_wait, &slot);
    await_sleeping(&waiter_tid);
    pthread_create(&finisher, NULL, finish_job, &slot);
    pthread_join(finisher, NULL);
    pthread_join(waiter, NULL);
    if (strcmp(mode, "reused_initializer") == 0) {
        slot = (job){.lock = PTHREAD_MUTEX_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};
    } else if (strcmp(mode, "reused_memset") == 0) {
        memset(&slot, 0, sizeof slot);
    } else {
        sem_destroy(&slot.posted);
        sem_init(&slot.posted, 0, 0);
    }
    waiter_tid = 0;
    pthread_create(&waiter, NULL, job_wait, &slot);
    await_sleeping(&waiter_tid);
}

/* ---- a process-shared mutex held by another process ---- */

static void *shared_wait(void *arg)
{
    waiter_tid = gettid();
    pthread_mutex_lock(arg);
    return NULL;
}

static void lock_in_child(void)
{
    pthread_mutex_t *m =
        mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t attr;
    int ready[2];
    pid_t parent = getpid();
    if (m == MAP_FAILED || pipe(ready) != 0)
        exit(96);
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(m, &attr);
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        exit(97);
    if (child == 0) {
        /* holds the lock until the parent has ended */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        pthread_mutex_lock(m);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    char c;
    if (read(ready[0], &c, 1) != 1)
        exit(98);
    printf("child %d\n", (int)child);
    fflush(stdout);
    pthread_t t;
    pthread_create(&t, NULL, shared_wait, m);
    await_sleeping(&waiter_tid);
}

/* ---- a full table of wakers, and its recovery ---- */

#define FILL 65536
static pthread_cond_t lost_cond = PTHREAD_COND_INITIALIZER, kept_cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static int table_waits[2]; /* waits begun on each, under table_lock */

static void *table_wait(void *arg)
{
    int which = arg == &kept_cond;
    pthread_mutex_lock(&table_lock);
    for (;;) {
        table_waits[which]++;
        pthread_cond_wait(arg, &table_lock);
    }
    return NULL;
}

/* Until the waiter on c has begun n waits (when the lock is free, it is inside the last). */
static void await_table(pthread_cond_t *c, int n)
{
    for (int tries = 0; tries < 10000; tries++) {
        pthread_mutex_lock(&table_lock);
        int begun = table_waits[c == &kept_cond];
        pthread_mutex_unlock(&table_lock);
        if (begun >= n)
            return;
        usleep(1000);
    }
    exit(94);
}

static void *signal_cond(void *arg)
{
    pthread_mutex_lock(&table_lock);
    pthread_cond_signal(arg);
    pthread_mutex_unlock(&table_lock);
    return NULL;
}

/* Wakes c's waiter once from a thread that ends, and waits until it waits again. */
static void signal_by_a_thread_that_ends(pthread_cond_t *c)
{
    pthread_t t;
    pthread_create(&t, NULL, signal_cond, c);
    pthread_join(t, NULL);
    await_table(c, 2);
}

static void fill_the_wakers(void)
{
    pthread_cond_t *fill = calloc(FILL, sizeof *fill);
    pthread_t t;
    if (!fill)
        exit(99);
    pthread_create(&t, NULL, table_wait, &lost_cond);
    pthread_create(&t, NULL, table_wait, &kept_cond);
    await_table(&lost_cond, 1);
    await_table(&kept_cond, 1);
    for (int i = 0; i < FILL; i++) {
        pthread_cond_init(&fill[i], NULL);
        pthread_cond_signal(&fill[i]);
    }
    signal_by_a_thread_that_ends(&lost_cond);
    for (int i = 0; i < FILL; i++)
        pthread_cond_destroy(&fill[i]);
    free(fill);
    signal_by_a_thread_that_ends(&kept_cond);
    printf("lost %p kept %p\n", (void *)&lost_cond, (void *)&kept_cond);
}

/* Writes over the stack the handler used, as later calls would. */
static void scrub(void)
{
    volatile char junk[16384];
    memset((char *)junk, 0, sizeof junk);
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "";
    pthread_t t;
    pthread_attr_t detached;
    pthread_attr_init(&detached);
    pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED);
    if (strncmp(mode, "reused_", 7) == 0) {
        reuse_slot();
        return 0;
    } else if (strcmp(mode, "shared_child") == 0) {
        lock_in_child();
        return 0;
    } else if (strcmp(mode, "wakers_full") == 0) {
        fill_the_wakers();
        return 0;
    } else if (strcmp(mode, "thread_returns") == 0) {
        pthread_create(&t, NULL, handle_request, NULL);
        pthread_join(t, NULL);
    } else if (strcmp(mode, "detached_returns") == 0) {
        pthread_create(&t, &detached, handle_request, NULL);
    } else {
        handle_request(NULL);
    }
    scrub();
    for (int i = 0; i < senders; i++)
        await_sleeping(&sender_tids[i]);
    if (strcmp(mode, "sleeper") == 0 || strncmp(mode, "chain", 5) == 0)
        await_sleeping(&holder_tid);
    usleep(20000);
    return 0;
}
