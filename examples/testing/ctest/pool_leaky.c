#include "../pool.h"

int main(void)
{
    pool_start(2); /* BUG: never stopped */
    return 0;
}
