/* SIGEV_THREAD timers: glibc starts a helper thread, and a thread per expiry, with its internal
   pthread_create, which no preloaded wrapper sees. timer_helper [kept|deleted|stuck]:
   kept     the timer is never deleted: a resource, served by the helper thread
   deleted  the timer is deleted: nothing to report
   stuck    the expiry's callback blocks for ever: an untracked thread, found in /proc */
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int fired;
static int stuck;

static void on_tick(union sigval v)
{
    (void)v;
    atomic_store(&fired, 1);
    while (stuck)
        pause();
}

static timer_t start_heartbeat(void)
{
    timer_t timer;
    struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_tick};
    struct itimerspec when = {.it_value = {.tv_nsec = 1000000}};
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0 ||
        timer_settime(timer, 0, &when, NULL) != 0)
        exit(90);
    return timer;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "kept";
    stuck = strcmp(mode, "stuck") == 0;
    timer_t timer = start_heartbeat();
    while (!atomic_load(&fired))
        usleep(1000);
    usleep(50000);
    if (strcmp(mode, "deleted") == 0 && timer_delete(timer) != 0)
        return 91;
    return 0;
}
