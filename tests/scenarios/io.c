/* A thread blocked for ever on a descriptor, as MODE names it: io MODE. The blocking function is
   block_in_MODE, started by start. Modes: pipe_read, pipe_readv, pipe_write, socket_read,
   socket_read_via_read, socket_read_via_recvfrom, socket_write, accept, poll, ppoll, epoll_wait,
   epoll_pwait2, select, mq_receive, mq_send; and
   mq_reopened               mq_receive on a queue opened again with mq_open's two-argument form
   pipe_kept / pipe_closed   a pipe made by make_pipe, left open / closed
   pipe_kept_threaded        the same, in a process that has started a thread before
   pipe_copy_kept            both ends closed, but a dup of one kept
   nonblocking               reads of empty non-blocking pipes, printed
   restart                   a pipe read interrupted by a signal with SA_RESTART, printed
   cancel_MODE               MODE's thread cancelled inside its wait (see scenario.h)
   A mode whose system call the kernel (or an emulator) lacks exits 3, saying which. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "scenario.h"

static int fds[2], sv[2], listener, epfd;
/* Lengths the compiler cannot see, as most programs' are: in a fortified build, reads, receives
   and polls of them into buffers of known size are checked at run time, by glibc's __*_chk. */
size_t one = 1;
nfds_t one_fd = 1;
int read_write = O_RDWR;
static mqd_t queue;
static char big[1 << 20];

BLOCKER(pipe_read, char c; read(fds[0], &c, one))
BLOCKER(pipe_readv, char c; struct iovec v = {&c, one}; readv(fds[0], &v, 1))
BLOCKER(pipe_write, for (;;) write(fds[1], big, sizeof big))
BLOCKER(socket_read, char c; recv(sv[0], &c, one, 0))
BLOCKER(socket_read_via_read, char c; read(sv[0], &c, one))
BLOCKER(socket_read_via_recvfrom, char c; recvfrom(sv[0], &c, one, 0, NULL, NULL))
BLOCKER(socket_write, for (;;) send(sv[0], big, sizeof big, 0))
BLOCKER(accept, accept(listener, NULL, NULL))
BLOCKER(poll, struct pollfd p = {.fd = fds[0], .events = POLLIN}; poll(&p, one_fd, -1))
BLOCKER(ppoll, struct pollfd p = {.fd = fds[0], .events = POLLIN}; ppoll(&p, one_fd, NULL, NULL))
BLOCKER(epoll_wait, struct epoll_event e; epoll_wait(epfd, &e, 1, -1))
BLOCKER(epoll_pwait2, struct epoll_event e; epoll_pwait2(epfd, &e, 1, NULL, NULL))
BLOCKER(select, fd_set r; FD_ZERO(&r); FD_SET(fds[0], &r); select(fds[0] + 1, &r, NULL, NULL, NULL))
BLOCKER(mq_receive, char m[64]; mq_receive(queue, m, sizeof m, NULL))
BLOCKER(mq_send, for (;;) mq_send(queue, "x", 1, 0))

static void *nothing(void *arg)
{
    return arg;
}

static void make_pipe(void)
{
    if (pipe(fds) != 0)
        exit(91);
}

static void open_queue(void)
{
    char name[64];
    snprintf(name, sizeof name, "/threadleak-test-%d", (int)getpid());
    struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = 64};
    queue = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    if (queue == (mqd_t)-1)
        exit(92);
    mq_unlink(name);
}

/* The queue opened again by name, with mq_open's two-argument form; the first descriptor closed.
   Not inlined, so that -O2 keeps it in stacks. */
__attribute__((noinline)) static void reopen_queue(void)
{
    char name[64];
    snprintf(name, sizeof name, "/threadleak-test-%d", (int)getpid());
    struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = 64};
    mqd_t first = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    queue = mq_open(name, read_write);
    if (first == (mqd_t)-1 || queue == (mqd_t)-1 || mq_close(first) != 0)
        exit(92);
    mq_unlink(name);
}

static void listen_on_loopback(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    listener = socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof a) || listen(listener, 1))
        exit(93);
}

static void on_signal(int sig)
{
    (void)sig;
}

static void *read_one(void *arg)
{
    char c;
    ssize_t n = read(fds[0], &c, one);
    printf("read=%zd errno=%s\n", n, n < 0 ? strerrorname_np(errno) : "-");
    return arg;
}

#define MODE(name) else if (strcmp(mode, #name) == 0) launch(block_in_##name)

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    void (*launch)(void *(*)(void *)) = launcher(&mode);
    if (strcmp(mode, "pipe_kept_threaded") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, nothing, NULL);
        pthread_join(t, NULL);
        mode = "pipe_kept";
    }
    make_pipe();
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        exit(94);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    epfd = epoll_create1(0);
    struct epoll_event none;
    if (strstr(mode, "epoll_pwait2") &&
        epoll_pwait2(epfd, &none, 1, &(struct timespec){0, 0}, NULL) < 0 && errno == ENOSYS) {
        fprintf(stderr, "epoll_pwait2: %s\n", strerror(errno)); /* new in Linux 5.11 */
        return 3;
    }
    if (strcmp(mode, "mq_reopened") == 0)
        reopen_queue();
    else if (strncmp(mode, "mq_", 3) == 0)
        open_queue();
    if (strcmp(mode, "mq_send") == 0)
        mq_send(queue, "x", 1, 0); /* now full */
    if (strcmp(mode, "accept") == 0)
        listen_on_loopback();
    if (0) {
    }
    MODE(pipe_read);
    MODE(pipe_readv);
    MODE(pipe_write);
    MODE(socket_read);
    MODE(socket_read_via_read);
    MODE(socket_read_via_recvfrom);
    MODE(socket_write);
    MODE(accept);
    MODE(poll);
    MODE(ppoll);
    MODE(epoll_wait);
    MODE(epoll_pwait2);
    MODE(select);
    MODE(mq_receive);
    MODE(mq_send);
    else if (strcmp(mode, "mq_reopened") == 0)
    {
        launch(block_in_mq_receive);
    }
    else if (strcmp(mode, "pipe_kept") == 0)
    {
        close(sv[0]), close(sv[1]);
        return 0;
    }
    else if (strcmp(mode, "pipe_closed") == 0)
    {
        close(fds[0]);
        close(fds[1]);
        int again[2];
        if (pipe2(again, O_CLOEXEC) != 0 || dup2(again[1], again[0]) < 0 || close(again[0]) ||
            close(again[1]))
            return 95; /* the read end gone under dup2, the write end and its copy closed */
        return 0;
    }
    else if (strcmp(mode, "pipe_copy_kept") == 0)
    {
        int copy = dup(fds[1]), copy2 = fcntl(fds[0], F_DUPFD_CLOEXEC, 100);
        if (copy < 0 || copy2 < 0 || close(fds[0]) || close(fds[1]) || close(copy2))
            return 96;
        return 0; /* the copy of the write end keeps the pipe open */
    }
    else if (strcmp(mode, "nonblocking") == 0)
    {
        int nb[2];
        char c;
        pipe2(nb, O_NONBLOCK);
        ssize_t n = read(nb[0], &c, one);
        printf("pipe2 O_NONBLOCK read=%zd errno=%s\n", n, strerrorname_np(errno));
        fcntl(fds[0], F_SETFL, O_NONBLOCK);
        n = read(fds[0], &c, one);
        printf("F_SETFL O_NONBLOCK read=%zd errno=%s\n", n, strerrorname_np(errno));
        n = recv(sv[0], &c, one, MSG_DONTWAIT);
        printf("MSG_DONTWAIT recv=%zd errno=%s\n", n, strerrorname_np(errno));
        return 0;
    }
    else if (strcmp(mode, "restart") == 0)
    {
        struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
        sigaction(SIGUSR2, &sa, NULL);
        pthread_t t;
        pthread_create(&t, NULL, read_one, NULL);
        usleep(50000);
        pthread_kill(t, SIGUSR2);
        usleep(50000);
        write(fds[1], "x", 1);
        pthread_join(t, NULL);
        return 0;
    }
    else
    {
        return 2;
    }
    usleep(50000);
    return 0;
}
