/* Threads that wait at one site, made at two: two groups (their creation stacks differ), one
   stack of waiting. two_creators [threads per creator] [ms to wait before exit] */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *wait_forever(void *arg)
{
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock);
    return arg;
}

static void start(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, wait_forever, NULL) != 0)
        abort();
}

static void from_the_pool(int n)
{
    for (int i = 0; i < n; i++)
        start();
}

static void from_a_request(int n)
{
    for (int i = 0; i < n; i++)
        start();
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    from_the_pool(n);
    from_a_request(n);
    usleep(argc > 2 ? atoi(argv[2]) * 1000 : 20000);
    return 0;
}
