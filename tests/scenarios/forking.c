/* fork in a threaded program: the child holds only its own thread, and tracks its own new ones.
   forking               three threads blocked in the parent; the child leaks one of its own
   forking race ROUNDS   two threads create and join (or detach) threads without pause while main
                         forks ROUNDS children; each child leaks one thread and exits; prints
                         "children N" with the number that exited 0 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int fork_and_wait(void)
{
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

static atomic_bool stop;

static void *nothing(void *arg)
{
    return arg;
}

static void *churn(void *detach)
{
    while (!atomic_load(&stop)) {
        pthread_t t;
        if (pthread_create(&t, NULL, nothing, NULL) == 0)
            detach ? pthread_detach(t) : pthread_join(t, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "race") == 0) {
        pthread_t a, b;
        pthread_create(&a, NULL, churn, NULL);
        pthread_create(&b, NULL, churn, (void *)1);
        int ok = 0, rounds = atoi(argv[2]);
        for (int i = 0; i < rounds; i++)
            ok += fork_and_wait() == 0;
        atomic_store(&stop, true);
        pthread_join(a, NULL);
        pthread_join(b, NULL);
        printf("children %d\n", ok);
        return 0;
    }
    parent_pool();
    usleep(10000);
    return fork_and_wait();
}
