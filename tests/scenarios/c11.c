/* C11 threads (<threads.h>), which glibc runs without its exported pthread functions: c11 MODE.
   A thread made by start_c11 (thrd_create, from main) blocks for ever in block_in_MODE. Modes:
   cnd_wait, cnd_timedwait, mtx_lock, mtx_timedlock, thrd_join, thrd_sleep; and
   signaller_exited        a cnd_wait whose only signaller, a C11 thread, has ended
   timed_signaller_exited  the same with cnd_timedwait: its deadline ends it
   owner_exited            an mtx_lock whose owner ended with thrd_exit, holding it; and a thread
                           joining the waiter with thrd_join
   abba                    two C11 threads each holding the mtx_t the other wants
   lifecycle               results through thrd_join and thrd_exit, printed; a detached thread
                           that ends; one left unjoined (exit_unjoined) */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

static mtx_t lock, held, pair[2];
static cnd_t never;

static struct timespec far_future(void)
{
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    t.tv_sec += 3600;
    return t;
}

#define BLOCKER(mode, ...)                                                                         \
    static int block_in_##mode(void *arg)                                                          \
    {                                                                                              \
        __VA_ARGS__;                                                                               \
        return arg != NULL;                                                                        \
    }

BLOCKER(cnd_wait, mtx_lock(&lock); for (;;) cnd_wait(&never, &lock))
BLOCKER(cnd_timedwait, struct timespec t = far_future(); mtx_lock(&lock);
        for (;;) cnd_timedwait(&never, &lock, &t))
BLOCKER(mtx_lock, mtx_lock(&held))
BLOCKER(mtx_timedlock, struct timespec t = far_future(); mtx_timedlock(&held, &t))
BLOCKER(thrd_sleep, struct timespec t = {3600, 0}; thrd_sleep(&t, NULL))

static thrd_t joined_target;
BLOCKER(thrd_join, thrd_join(joined_target, NULL))

static int pause_forever(void *arg)
{
    for (;;)
        pause();
    return arg != NULL;
}

/* The report's created_at: start_c11, called from main. */
static thrd_t start_c11(thrd_start_t fn, void *arg)
{
    thrd_t t;
    if (thrd_create(&t, fn, arg) != thrd_success)
        exit(90);
    return t;
}

static int signal_once(void *arg)
{
    cnd_signal(&never);
    return arg != NULL;
}

static int lock_and_leave(void *arg)
{
    mtx_lock(&held);
    thrd_exit(7); /* BUG: never unlocks */
    return arg != NULL;
}

static int join_it(void *arg)
{
    thrd_join(*(thrd_t *)arg, NULL);
    return 0;
}

static int lock_then(void *arg)
{
    int i = (int)(long)arg;
    mtx_lock(&pair[i]);
    thrd_sleep(&(struct timespec){0, 20000000}, NULL);
    mtx_lock(&pair[1 - i]); /* lock-site */
    return 0;
}

static int returns(void *arg)
{
    return (int)(long)arg;
}

static int exits(void *arg)
{
    thrd_exit((int)(long)arg);
}

static int exit_unjoined(void *arg)
{
    return arg != NULL;
}

#define MODE(name) else if (strcmp(mode, #name) == 0) start_c11(block_in_##name, NULL)

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    mtx_init(&lock, mtx_plain);
    mtx_init(&held, mtx_timed);
    mtx_init(&pair[0], mtx_plain);
    mtx_init(&pair[1], mtx_plain);
    cnd_init(&never);
    if (strcmp(mode, "mtx_lock") == 0 || strcmp(mode, "mtx_timedlock") == 0)
        mtx_lock(&held);
    if (0) {
    }
    MODE(cnd_wait);
    MODE(cnd_timedwait);
    MODE(mtx_lock);
    MODE(mtx_timedlock);
    MODE(thrd_sleep);
    else if (strcmp(mode, "thrd_join") == 0)
    {
        joined_target = start_c11(pause_forever, NULL);
        start_c11(block_in_thrd_join, NULL);
    }
    else if (strcmp(mode, "signaller_exited") == 0 || strcmp(mode, "timed_signaller_exited") == 0)
    {
        start_c11(mode[0] == 't' ? block_in_cnd_timedwait : block_in_cnd_wait, NULL);
        thrd_sleep(&(struct timespec){0, 20000000}, NULL);
        thrd_join(start_c11(signal_once, NULL), NULL);
    }
    else if (strcmp(mode, "owner_exited") == 0)
    {
        int rc = 0;
        thrd_join(start_c11(lock_and_leave, NULL), &rc);
        if (rc != 7)
            return 91;
        static thrd_t waiter;
        waiter = start_c11(block_in_mtx_lock, NULL);
        start_c11(join_it, &waiter);
    }
    else if (strcmp(mode, "abba") == 0)
    {
        start_c11(lock_then, (void *)0L);
        start_c11(lock_then, (void *)1L);
    }
    else if (strcmp(mode, "lifecycle") == 0)
    {
        int a = 0, b = 0;
        int ra = thrd_join(start_c11(returns, (void *)42L), &a);
        int rb = thrd_join(start_c11(exits, (void *)-3L), &b);
        int rd = thrd_detach(start_c11(returns, NULL));
        start_c11(exit_unjoined, NULL);
        printf("join rc=%d result=%d\nthrd_exit join rc=%d result=%d\ndetach rc=%d\n", ra, a, rb, b,
               rd);
        fflush(stdout);
    }
    else
    {
        return 2;
    }
    thrd_sleep(&(struct timespec){0, 100000000}, NULL);
    return 0;
}
