/* Two threads handing a turn back and forth through one condition variable, N round trips:
   prints the seconds it took. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static int turn;
static long rounds;

static void *player(void *arg)
{
    int me = (int)(long)arg;
    pthread_mutex_lock(&lock);
    for (long i = 0; i < rounds; i++) {
        while (turn != me)
            pthread_cond_wait(&turn_changed, &lock);
        turn = !me;
        pthread_cond_signal(&turn_changed);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atol(argv[1]) : 200000;
    struct timespec a, b;
    pthread_t p[2];
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < 2; i++)
        pthread_create(&p[i], NULL, player, (void *)i);
    for (int i = 0; i < 2; i++)
        pthread_join(p[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
