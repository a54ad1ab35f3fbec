/* A SIGEV_THREAD timer: glibc starts its helper thread with its internal pthread_create, which no
   preloaded wrapper sees. The report must still list it, from /proc/self/task. */
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static atomic_int fired;

static void on_tick(union sigval v)
{
    (void)v;
    atomic_store(&fired, 1);
}

int main(void)
{
    timer_t timer;
    struct sigevent ev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_tick};
    struct itimerspec when = {.it_value = {.tv_nsec = 1000000}};
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0 || timer_settime(timer, 0, &when, NULL) != 0)
        return 90;
    while (!atomic_load(&fired))
        usleep(1000);
    usleep(50000);
    return 0;
}
