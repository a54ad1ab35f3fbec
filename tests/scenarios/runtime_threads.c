/* A runtime's own thread next to the program's: "GC Thread#0" names itself as the JVM's do, after
   it starts; "worker" is the program's. Both wait for ever. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *wait_forever(void *name)
{
    pthread_setname_np(pthread_self(), name);
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock);
    return NULL;
}

int main(void)
{
    static char *names[] = {"GC Thread#0", "worker"};
    for (int i = 0; i < 2; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, wait_forever, names[i]) != 0)
            abort();
    }
    usleep(20000);
    return 0;
}
