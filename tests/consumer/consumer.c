/* Built against an installed threadleak: leaks one thread, which the linked library reports. */
#include <pthread.h>
#include <stdio.h>
#include <threadleak.h>
#include <unistd.h>

static void *wait_forever(void *arg)
{
    for (;;)
        pause();
    return arg;
}

static void installed_leak(void)
{
    pthread_t t;
    pthread_create(&t, NULL, wait_forever, NULL);
}

int main(void)
{
    printf("built against threadleak %s\n", THREADLEAK_VERSION);
    installed_leak();
    usleep(10000);
    return 0;
}
