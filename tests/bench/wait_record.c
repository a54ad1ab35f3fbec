/* A wait that is recorded but does not block, N times: sem_post then sem_wait, in a thread made
   by pthread_create (the library records the waits of the threads it saw created). What the
   record costs a wait, against the bare calls: prints the seconds it took. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *post_and_wait(void *arg)
{
    long n = *(long *)arg;
    sem_t s;
    sem_init(&s, 0, 0);
    for (long i = 0; i < n; i++) {
        sem_post(&s);
        sem_wait(&s);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000000;
    pthread_t t;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (pthread_create(&t, NULL, post_and_wait, &n) != 0 || pthread_join(t, NULL) != 0)
        return 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
