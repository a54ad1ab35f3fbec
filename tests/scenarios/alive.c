/* Threads blocked for ever on a condition variable that nobody signals, still there at exit.
   alive [threads] [exit status] */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *wait_forever(void *arg)
{
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock); /* wait-site */
    return arg;
}

static void spawn_blocked(int n)
{
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, wait_forever, NULL) != 0) /* create-site */
            abort();
    }
}

int main(int argc, char **argv)
{
    spawn_blocked(argc > 1 ? atoi(argv[1]) : 2);
    usleep(20000);
    return argc > 2 ? atoi(argv[2]) : 0;
}
