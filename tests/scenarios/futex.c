/* Futex waits made through glibc's syscall(), as Rust's std, C++20's atomic waits and abseil make
   them, and other system calls through it: futex MODE. A thread made by start (from main) blocks
   for ever in block_in_MODE; main prints the address of the word it waits on ("word=0x...").
   Modes: wait, wait_bitset, lock_pi (a PI lock main holds), wait_requeue_pi, waitv, io_uring
   (io_uring_enter waiting for a completion); and
   waker_exited         a wait whose only waker (FUTEX_WAKE) has ended
   timed_waker_exited   the same with a timeout: its deadline ends it
   wake_op_exited       a wait on the second word of a FUTEX_WAKE_OP whose caller has ended
   shared_waker_exited  the same as waker_exited on a futex not private to the process
   requeued             a waiter on a word whose waiters were requeued by a thread now ended
   raw                  threads in epoll_pwait2, futex_waitv and io_uring_enter called through
                        libc's own syscall(), past the library: named from /proc
   passthrough          other system calls through syscall(): results and errno, printed */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "scenario.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

static uint32_t word, second, pi_lock;
static int ring = -1, epfd = -1;
static long (*libc_syscall)(long, ...);

static long futex(uint32_t *w, int op, uint32_t val, const struct timespec *t, uint32_t *w2)
{
    return syscall(SYS_futex, w, op, val, t, w2, 0);
}

static struct futex_waitv two_words[2];

BLOCKER(wait, for (;;) futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL))
BLOCKER(wait_bitset,
        for (;;) syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, ~0u))
BLOCKER(lock_pi, for (;;) futex(&pi_lock, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL))
BLOCKER(wait_requeue_pi, for (;;) futex(&word, FUTEX_WAIT_REQUEUE_PI_PRIVATE, 0, NULL, &pi_lock))
BLOCKER(waitv, for (;;) syscall(SYS_futex_waitv, two_words, 2, 0, NULL, CLOCK_MONOTONIC))
BLOCKER(io_uring, for (;;) syscall(SYS_io_uring_enter, ring, 0, 1, IORING_ENTER_GETEVENTS, NULL, 0))
BLOCKER(timed_wait, struct timespec t = {3600, 0};
        for (;;) futex(&word, FUTEX_WAIT_PRIVATE, 0, &t, NULL))
BLOCKER(wait_second, for (;;) futex(&second, FUTEX_WAIT_PRIVATE, 0, NULL, NULL))
BLOCKER(shared_wait, for (;;) futex(&word, FUTEX_WAIT, 0, NULL, NULL))

static void *wake_once(void *arg)
{
    futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL);
    return arg;
}

static void *wake_shared_once(void *arg)
{
    futex(&word, FUTEX_WAKE, 1, NULL, NULL);
    return arg;
}

static void *wake_op_once(void *arg)
{
    /* wakes word's waiters and, as the operation (add 0 to second, compare 0 == 0) holds,
       second's */
    syscall(SYS_futex, &word, FUTEX_WAKE_OP_PRIVATE, 1, 1, &second,
            FUTEX_OP(FUTEX_OP_ADD, 0, FUTEX_OP_CMP_EQ, 0));
    return arg;
}

static void *requeue_all(void *arg)
{
    futex(&word, FUTEX_CMP_REQUEUE_PRIVATE, 0, (const struct timespec *)(long)INT32_MAX,
          &second); /* val2 (the fourth argument) is the count to requeue */
    return arg;
}

/* The same waits made through libc's own syscall(), which the library never sees. */
static void *raw_epoll_pwait2(void *arg)
{
    struct epoll_event e;
    for (;;)
        libc_syscall(SYS_epoll_pwait2, epfd, &e, 1, NULL, NULL, 8);
    return arg;
}

static void *raw_futex_waitv(void *arg)
{
    for (;;)
        libc_syscall(SYS_futex_waitv, two_words, 2, 0, NULL, CLOCK_MONOTONIC);
    return arg;
}

static void *raw_io_uring_enter(void *arg)
{
    for (;;)
        libc_syscall(SYS_io_uring_enter, ring, 0, 1, IORING_ENTER_GETEVENTS, NULL, 0);
    return arg;
}

static void then_join(void *(*fn)(void *))
{
    usleep(20000);
    pthread_t t;
    if (pthread_create(&t, NULL, fn, NULL) != 0)
        exit(90);
    pthread_join(t, NULL);
}

static void show(const char *what, long rc)
{
    printf("%s rc=%ld errno=%s\n", what, rc, rc < 0 ? strerrorname_np(errno) : "-");
}

/* Calls that must behave through the library exactly as without it. */
static int passthrough(void)
{
    errno = 0;
    show("getpid", syscall(SYS_getpid) == getpid());
    show("gettid", syscall(SYS_gettid) == gettid());
    show("close -1", syscall(SYS_close, -1));
    show("write", syscall(SYS_write, 1, "written\n", 8));
    void *p = (void *)syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); /* six arguments */
    show("mmap", p != MAP_FAILED && p != NULL);
    show("munmap", syscall(SYS_munmap, p, 4096));
    show("no such call", syscall(100000, 1, 2, 3));
    uint32_t w = 1;
    show("futex wait on a changed word", futex(&w, FUTEX_WAIT_PRIVATE, 0, NULL, NULL));
    show("futex wake", futex(&w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL));
    struct timespec t = {0, 1000000};
    show("futex timed wait", futex(&w, FUTEX_WAIT_PRIVATE, 1, &t, NULL));
    show("futex bad op", futex(&w, 99, 0, NULL, NULL));
    show("futex_waitv none", syscall(SYS_futex_waitv, NULL, 0, 0, NULL, CLOCK_MONOTONIC));
    show("futex_waitv bad vector",
         syscall(SYS_futex_waitv, (void *)16, 1, 0, NULL, CLOCK_MONOTONIC));
    show("io_uring_enter bad ring",
         syscall(SYS_io_uring_enter, -1, 0, 1, IORING_ENTER_GETEVENTS, NULL, 0));
    return 0;
}

/* Whether the system calls mode needs exist here (an emulator may lack some): if not, says which
   on stderr. */
static bool supported(const char *mode)
{
    bool raw = strcmp(mode, "raw") == 0;
    if ((raw || strcmp(mode, "io_uring") == 0) && ring < 0) {
        fprintf(stderr, "io_uring_setup: %s\n", strerror(errno));
        return false;
    }
    struct epoll_event e;
    if (raw && syscall(SYS_epoll_pwait2, epfd, &e, 1, &(struct timespec){0}, NULL, 8) < 0 &&
        errno == ENOSYS) {
        fprintf(stderr, "epoll_pwait2: %s\n", strerror(errno));
        return false;
    }
    if ((raw || strcmp(mode, "waitv") == 0) &&
        syscall(SYS_futex_waitv, NULL, 0, 0, NULL, CLOCK_MONOTONIC) < 0 && errno == ENOSYS) {
        fprintf(stderr, "futex_waitv: %s\n", strerror(errno));
        return false;
    }
    return true;
}

#define MODE(name) else if (strcmp(mode, #name) == 0) start(block_in_##name)

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    *(void **)&libc_syscall = libc ? dlsym(libc, "syscall") : NULL;
    pi_lock = (uint32_t)gettid(); /* held by main */
    two_words[0] = (struct futex_waitv){.uaddr = (uintptr_t)&word, .flags = FUTEX_32};
    two_words[1] = (struct futex_waitv){.uaddr = (uintptr_t)&second, .flags = FUTEX_32};
    struct io_uring_params params = {0};
    ring = (int)syscall(SYS_io_uring_setup, 4, &params);
    epfd = epoll_create1(0);
    if (epfd < 0 || !libc_syscall || !supported(mode))
        return 3;
    printf("word=%p second=%p\n", (void *)&word, (void *)&second);
    fflush(stdout);
    if (0) {
    }
    MODE(wait);
    MODE(wait_bitset);
    MODE(lock_pi);
    MODE(wait_requeue_pi);
    MODE(waitv);
    MODE(io_uring);
    else if (strcmp(mode, "waker_exited") == 0)
    {
        start(block_in_wait);
        then_join(wake_once);
    }
    else if (strcmp(mode, "timed_waker_exited") == 0)
    {
        start(block_in_timed_wait);
        then_join(wake_once);
    }
    else if (strcmp(mode, "wake_op_exited") == 0)
    {
        start(block_in_wait_second);
        then_join(wake_op_once);
    }
    else if (strcmp(mode, "shared_waker_exited") == 0)
    {
        start(block_in_shared_wait);
        then_join(wake_shared_once);
    }
    else if (strcmp(mode, "requeued") == 0)
    {
        start(block_in_wait);
        then_join(wake_once);
        then_join(requeue_all);
    }
    else if (strcmp(mode, "raw") == 0)
    {
        start(raw_epoll_pwait2);
        start(raw_futex_waitv);
        start(raw_io_uring_enter);
    }
    else if (strcmp(mode, "passthrough") == 0)
    {
        return passthrough();
    }
    else
    {
        return 2;
    }
    usleep(100000);
    return 0;
}
