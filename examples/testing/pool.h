/* A worker pool, the code under test in the testing examples. */
#ifndef POOL_H
#define POOL_H

typedef struct pool pool;
pool *pool_start(int workers);
void pool_stop(pool *p); /* wakes the workers and joins them; forgetting it leaks them */

#endif
