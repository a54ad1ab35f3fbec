/* Descriptors the library watches.
   fds files DIR N          makes N small files in DIR, then opens, reads to the end and closes each
   fds fifo DIR             a thread blocks reading a FIFO made with mkfifo and opened by name
   fds handler SECONDS      a signal handler makes, copies and closes pipes, again and again, while
                            the thread it interrupts is inside the same wrappers, malloc,
                            mq_open/mq_close and timer_create/timer_delete; prints "ok" */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int fifo;

static void *read_fifo(void *arg)
{
    char c;
    read(fifo, &c, 1); /* fifo-read */
    return arg;
}

static void files(const char *dir, int n)
{
    char path[4096], buf[4096];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%d", dir, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        write(fd, "some text\n", 10);
        close(fd);
    }
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/f%d", dir, i);
        int fd = open(path, O_RDONLY);
        while (read(fd, buf, sizeof buf) > 0)
            ;
        close(fd);
    }
}

/* In the handler: everything here is async-signal-safe, and so must its wrappers be. */
static void on_signal(int sig)
{
    (void)sig;
    int p[2];
    if (pipe(p) != 0)
        _exit(91);
    int copy = dup(p[0]);
    dup2(p[1], copy);
    close(copy);
    close(p[0]);
    close(p[1]);
}

static atomic_bool stop;

static void *interrupt(void *main_tid)
{
    pid_t tid = *(pid_t *)main_tid;
    while (!atomic_load(&stop)) {
        syscall(SYS_tgkill, getpid(), tid, SIGUSR2);
        sched_yield();
    }
    return NULL;
}

static void handler_inside_wrappers(double seconds)
{
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigaction(SIGUSR2, &sa, NULL);
    pid_t me = gettid();
    pthread_t t;
    pthread_create(&t, NULL, interrupt, &me);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long rounds = 0;
    do {
        int p[2], q[2];
        if (pipe(p) != 0 || pipe2(q, O_CLOEXEC) != 0)
            exit(92);
        int a = dup(p[0]), b = fcntl(q[1], F_DUPFD_CLOEXEC, 10);
        dup2(q[0], a);
        dup3(p[1], b, O_CLOEXEC);
        close(a), close(b), close(p[0]), close(p[1]), close(q[0]), close(q[1]);
        for (int i = 0; i < 16; i++)
            free(malloc(64 + (size_t)i * 32));
        char name[64];
        snprintf(name, sizeof name, "/threadleak-fds-%d", (int)getpid());
        struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = 8};
        mqd_t mq = mq_open(name, O_CREAT | O_RDWR, 0600, &attr);
        mq_unlink(name);
        for (int i = 0; mq != (mqd_t)-1 && i < 8; i++)
            mq_close(dup(mq)); /* a queue descriptor is a file descriptor */
        if (mq != (mqd_t)-1)
            mq_close(mq);
        for (int i = 0; i < 8; i++) {
            timer_t timer;
            struct sigevent ev = {.sigev_notify = SIGEV_NONE};
            if (timer_create(CLOCK_MONOTONIC, &ev, &timer) == 0)
                timer_delete(timer);
        }
        rounds++;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec + (now.tv_nsec - start.tv_nsec) / 1e9 < seconds);
    atomic_store(&stop, true);
    pthread_join(t, NULL);
    printf("ok %s\n", rounds > 100 ? "rounds" : "too few rounds");
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "files") == 0) {
        files(argv[2], atoi(argv[3]));
    } else if (argc == 3 && strcmp(argv[1], "fifo") == 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/fifo", argv[2]);
        if (mkfifo(path, 0600) != 0 || (fifo = open(path, O_RDWR)) < 0)
            return 93;
        pthread_t t;
        pthread_create(&t, NULL, read_fifo, NULL);
        usleep(100000);
    } else if (argc == 3 && strcmp(argv[1], "handler") == 0) {
        handler_inside_wrappers(atof(argv[2]));
    } else {
        return 2;
    }
    return 0;
}
