/* A request handler that leaks a thread per slow request.

   Each request starts a worker to fetch a price from a backend and waits up to 20 ms for the answer.
   When the backend is slow the request gives up and returns an error, but the worker it started is
   never told: it waits on for a reply that will never be posted. Under load such a service grows by
   one stuck thread per timed-out request until it is killed.

   Run it under threadleak (the demo preset does): the report groups the stuck workers and points at
   the line in handle_request that started them. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct request {
    int id;
    pthread_mutex_t lock;
    pthread_cond_t answered;
    bool has_answer;
    double price;
} request;

/* The backend answers only even requests; the odd ones are "slow" and never answered. */
static bool backend_answers(int id)
{
    return id % 2 == 0;
}

static void *fetch_price(void *arg)
{
    request *req = arg;
    pthread_mutex_lock(&req->lock);
    if (backend_answers(req->id)) {
        req->price = 100.0 + req->id;
        req->has_answer = true;
        pthread_cond_signal(&req->answered);
    }
    while (!req->has_answer) /* waits for a reply the backend will never post */
        pthread_cond_wait(&req->answered, &req->lock);
    pthread_mutex_unlock(&req->lock);
    return NULL;
}

static int handle_request(int id)
{
    request *req = calloc(1, sizeof *req);
    req->id = id;
    pthread_mutex_init(&req->lock, NULL);
    pthread_cond_init(&req->answered, NULL);
    pthread_t worker;
    pthread_create(&worker, NULL, fetch_price, req);

    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 20 * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    int rc = 0;
    pthread_mutex_lock(&req->lock);
    while (!req->has_answer && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&req->answered, &req->lock, &deadline);
    bool ok = req->has_answer;
    pthread_mutex_unlock(&req->lock);
    if (!ok) {
        printf("request %d: backend timed out\n", id);
        return -1; /* BUG: the worker is neither cancelled, nor woken, nor joined */
    }
    pthread_join(worker, NULL);
    printf("request %d: price %.2f\n", id, req->price);
    free(req);
    return 0;
}

int main(void)
{
    int failed = 0;
    for (int id = 1; id <= 6; id++)
        failed += handle_request(id) != 0;
    printf("%d of 6 requests failed\n", failed);
    return 0;
}
