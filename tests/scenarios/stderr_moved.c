/* A program that closes its stderr before exiting (xz does), or gets its number back for a data
   file of its own, and leaks a thread.
   stderr_moved closed        closes fd 2
   stderr_moved data FILE     closes fd 2, opens FILE (which gets number 2), writes two lines */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static void *wait_for_ever(void *arg)
{
    for (;;)
        pause();
    return arg;
}

static void leak(void)
{
    pthread_t t;
    pthread_create(&t, NULL, wait_for_ever, NULL);
}

int main(int argc, char **argv)
{
    leak();
    usleep(20000);
    close(2);
    if (argc == 3 && strcmp(argv[1], "data") == 0) {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd != 2)
            return 90;
        write(fd, "a,b\n1,2\n", 8);
    }
    return 0;
}
