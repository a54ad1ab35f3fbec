#include "pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t work;
    bool stopping;
    int n;
    pthread_t threads[];
};

static void *pool_worker(void *arg)
{
    pool *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stopping)
        pthread_cond_wait(&p->work, &p->lock);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

pool *pool_start(int workers)
{
    pool *p = calloc(1, sizeof *p + (size_t)workers * sizeof(pthread_t));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    for (p->n = 0; p->n < workers; p->n++)
        pthread_create(&p->threads[p->n], NULL, pool_worker, p);
    return p;
}

void pool_stop(pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    free(p);
}
