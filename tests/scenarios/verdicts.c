/* Threads that can never wake, and healthy ones that merely wait: verdicts MODE.
   abba          two threads each holding the mutex the other wants
   cycle3        three threads in a ring of mutexes, and a fourth waiting behind them
   join_cycle    three threads joining one another in a ring (glibc refuses a ring of two)
   owner_exited  a mutex whose owner ended without unlocking it, and a thread joining its waiter
   healthy       an idle pool, a server in accept, a sleeper, a pool its live producer signals
   pipe_writer_exited  a reader whose pipe's only writer wrote once and ended
   mq_no_sender  a receiver on a queue nobody sends to
   spinner       a thread computing for ever: running, never a leak
   pileup N      N threads waiting at one site */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static pthread_mutex_t m[3] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
                               PTHREAD_MUTEX_INITIALIZER};
static pthread_barrier_t ready;

static void *lock_then(void *arg)
{
    int i = (int)(long)arg, n = i >= 10 ? 3 : 2;
    i %= 10;
    pthread_mutex_lock(&m[i]);
    pthread_barrier_wait(&ready);
    pthread_mutex_lock(&m[(i + 1) % n]); /* lock-site */
    return NULL;
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg) != 0)
        exit(90);
    return t;
}

static void *behind(void *arg)
{
    pthread_mutex_lock(&m[0]);
    return arg;
}

static pthread_t joined[3];
static void *join_next(void *arg)
{
    int i = (int)(long)arg;
    pthread_barrier_wait(&ready); /* every handle is stored */
    pthread_join(joined[(i + 1) % 3], NULL);
    return NULL;
}

static void *lock_and_leave(void *arg)
{
    pthread_mutex_lock(&m[0]);
    return arg; /* BUG: never unlocks */
}

static void *join_it(void *arg)
{
    pthread_join(*(pthread_t *)arg, NULL);
    return NULL;
}

static pthread_mutex_t q = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER, more = PTHREAD_COND_INITIALIZER;
static int jobs;
static bool more_waited; /* under q: a worker on `more` is in its wait once q is free */

static void *idle_worker(void *arg)
{
    pthread_mutex_lock(&q);
    more_waited |= arg == &more;
    for (;;)
        pthread_cond_wait(arg, &q);
    return NULL;
}

/* Signals `more` once a second, from when its worker waits: a signal that finds no waiter leaves
   no trace in the condition variable, and the worker's evidence would say none reached it. */
static void *producer(void *arg)
{
    for (;;) {
        pthread_mutex_lock(&q);
        while (!more_waited) {
            pthread_mutex_unlock(&q);
            usleep(1000);
            pthread_mutex_lock(&q);
        }
        jobs++;
        pthread_cond_signal(&more);
        pthread_mutex_unlock(&q);
        sleep(1);
    }
    return arg;
}

static void *server(void *arg)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1))
        exit(91);
    for (;;)
        close(accept(s, NULL, NULL));
    return arg;
}

static void *sleeper(void *arg)
{
    for (;;)
        sleep(1);
    return arg;
}

static void *waits_at_one_site(void *arg)
{
    pthread_mutex_lock(&q);
    for (;;)
        pthread_cond_wait(&work, &q); /* pileup-site */
    return arg;
}

static void *spin(void *arg)
{
    for (volatile unsigned long n = 0;; n++)
        ;
    return arg;
}

static int fds[2];
static mqd_t queue;

static void *write_once(void *arg)
{
    write(fds[1], "x", 1);
    return arg;
}

static void *read_for_ever(void *arg)
{
    char c;
    while (read(fds[0], &c, 1) == 1)
        ;
    return arg;
}

static void *receive(void *arg)
{
    char msg[64];
    mq_receive(queue, msg, sizeof msg, NULL);
    return arg;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "abba") == 0) {
        pthread_barrier_init(&ready, NULL, 2);
        spawn(lock_then, (void *)0L);
        spawn(lock_then, (void *)1L);
    } else if (strcmp(mode, "cycle3") == 0) {
        pthread_barrier_init(&ready, NULL, 3);
        for (long i = 0; i < 3; i++)
            spawn(lock_then, (void *)(10 + i));
        usleep(20000);
        spawn(behind, NULL);
    } else if (strcmp(mode, "join_cycle") == 0) {
        pthread_barrier_init(&ready, NULL, 4);
        for (long i = 0; i < 3; i++)
            joined[i] = spawn(join_next, (void *)i);
        pthread_barrier_wait(&ready);
    } else if (strcmp(mode, "owner_exited") == 0) {
        pthread_t owner = spawn(lock_and_leave, NULL);
        pthread_join(owner, NULL);
        static pthread_t waiter;
        waiter = spawn(behind, NULL);
        spawn(join_it, &waiter);
    } else if (strcmp(mode, "healthy") == 0) {
        for (int i = 0; i < 3; i++)
            spawn(idle_worker, &work);
        spawn(idle_worker, &more);
        spawn(producer, NULL);
        spawn(server, NULL);
        spawn(sleeper, NULL);
    } else if (strcmp(mode, "pipe_writer_exited") == 0) {
        if (pipe(fds) != 0)
            return 92;
        pthread_join(spawn(write_once, NULL), NULL);
        spawn(read_for_ever, NULL);
    } else if (strcmp(mode, "mq_no_sender") == 0) {
        char name[64];
        snprintf(name, sizeof name, "/threadleak-verdicts-%d", (int)getpid());
        struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = 64};
        queue = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
        if (queue == (mqd_t)-1)
            return 93;
        mq_unlink(name);
        spawn(receive, NULL);
    } else if (strcmp(mode, "spinner") == 0) {
        spawn(spin, NULL);
    } else if (strcmp(mode, "pileup") == 0 && argc > 2) {
        for (int i = atoi(argv[2]); i > 0; i--)
            spawn(waits_at_one_site, NULL);
    } else {
        return 2;
    }
    usleep(100000);
    return 0;
}
