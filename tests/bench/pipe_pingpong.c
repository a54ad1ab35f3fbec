/* Two threads passing one byte back and forth through two pipes, N round trips: prints the seconds
   it took. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int there[2], back[2];
static long rounds;

static void *echo(void *arg)
{
    char c;
    for (long i = 0; i < rounds; i++)
        if (read(there[0], &c, 1) != 1 || write(back[1], &c, 1) != 1)
            exit(1);
    return arg;
}

int main(int argc, char **argv)
{
    rounds = argc > 1 ? atol(argv[1]) : 200000;
    if (pipe(there) || pipe(back))
        return 1;
    struct timespec a, b;
    pthread_t t;
    char c = 'x';
    clock_gettime(CLOCK_MONOTONIC, &a);
    pthread_create(&t, NULL, echo, NULL);
    for (long i = 0; i < rounds; i++)
        if (write(there[1], &c, 1) != 1 || read(back[0], &c, 1) != 1)
            return 1;
    pthread_join(t, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.6f\n", (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
