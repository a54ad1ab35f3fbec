/* Many short threads, joined or detached: the library's heap must stay flat.
   churn CYCLES: prints the heap in use after a warm-up and at the end. */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static atomic_int running;

static void *work(void *arg)
{
    atomic_fetch_sub(&running, 1);
    return arg;
}

static void cycle(int i)
{
    pthread_t t;
    atomic_fetch_add(&running, 1);
    if (pthread_create(&t, NULL, work, NULL) != 0)
        exit(90);
    if (i % 4 == 3)
        pthread_detach(t);
    else
        pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
    long cycles = argc > 1 ? atol(argv[1]) : 100000, warmup = cycles / 10;
    for (long i = 0; i < warmup; i++)
        cycle((int)i);
    while (atomic_load(&running))
        usleep(1000);
    size_t before = mallinfo2().uordblks;
    for (long i = warmup; i < cycles; i++)
        cycle((int)i);
    while (atomic_load(&running))
        usleep(1000);
    usleep(10000);
    size_t after = mallinfo2().uordblks;
    printf("cycles=%ld heap_before=%zu heap_after=%zu growth=%ld\n", cycles, before, after,
           (long)after - (long)before);
    return 0;
}
