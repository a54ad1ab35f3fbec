/* fork in a threaded program: the child holds only its own thread, and tracks its own new ones. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *wait_forever(void *arg)
{
    for (;;)
        pause();
    return arg;
}

static void parent_pool(void)
{
    for (int i = 0; i < 3; i++) {
        pthread_t t;
        pthread_create(&t, NULL, wait_forever, NULL);
    }
}

static void child_work(void)
{
    pthread_t t;
    pthread_create(&t, NULL, wait_forever, NULL);
}

int main(void)
{
    parent_pool();
    usleep(10000);
    pid_t pid = fork();
    if (pid == 0) {
        child_work();
        usleep(10000);
        exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}
