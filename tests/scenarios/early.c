/* Linked with early_lib, whose constructor starts a thread before main and before threadleak's
   constructor has run. */
#include <unistd.h>

int early_lib_started(void);

int main(void)
{
    while (!early_lib_started())
        usleep(1000);
    return 0;
}
