#include "../pool.h"

int main(void)
{
    pool_stop(pool_start(2));
    return 0;
}
