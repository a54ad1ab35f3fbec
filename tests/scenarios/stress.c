/* Many threads creating, joining and detaching at once. Each worker leaves exactly one finished
   thread unjoined, so the report must count exactly WORKERS of them: no lost or double records. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define WORKERS 8
#define ROUNDS 400

static void *nothing(void *arg)
{
    return arg;
}

static void leave_one_behind(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) != 0)
        exit(90);
}

static void *worker(void *arg)
{
    for (int i = 0; i < ROUNDS; i++) {
        pthread_t a, b;
        if (pthread_create(&a, NULL, nothing, NULL) || pthread_create(&b, NULL, nothing, NULL))
            exit(91);
        pthread_detach(b);
        pthread_join(a, NULL);
    }
    leave_one_behind();
    return arg;
}

int main(void)
{
    pthread_t w[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&w[i], NULL, worker, NULL);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(w[i], NULL);
    return 0;
}
