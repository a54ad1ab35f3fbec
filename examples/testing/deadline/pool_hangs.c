#include "../pool.h"

#include <unistd.h>

int main(void)
{
    pool *p = pool_start(2);
    pause(); /* BUG: waits for a reply that the pool never sends */
    pool_stop(p);
    return 0;
}
