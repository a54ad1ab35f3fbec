/* Linked with -lthreadleak instead of preloaded: the at-exit report must work the same. */
#include <pthread.h>
#include <unistd.h>

static void *wait_forever(void *arg)
{
    for (;;)
        pause();
    return arg;
}

static void linked_leak(void)
{
    pthread_t t;
    pthread_create(&t, NULL, wait_forever, NULL);
}

int main(void)
{
    linked_leak();
    usleep(10000);
    return 0;
}
