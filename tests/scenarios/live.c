/* A program that is dumped while it runs. It starts three workers that wait for ever on a condition
   variable, prints "ready", and waits for a line on stdin; then it does its work (items passed
   through a pipe and a condition variable between two threads), prints what it computed, and
   exits with status 3.

   live work [items]       as above
   live own_handler        installs its own SIGUSR1 handler first, and prints how many it saw
   live single             starts no thread at all, and prints "alone"
   live signalfd           takes SIGUSR1 with a signalfd, and prints how many it read */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER, changed = PTHREAD_COND_INITIALIZER;
static long items, handed, taken;
static unsigned long long sum;
static int pipe_fds[2];
static volatile sig_atomic_t handled;

static void *stuck_worker(void *arg)
{
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock); /* stuck-site */
    return arg;
}

/* Reads numbers from the pipe and hands them one at a time to the consumer. */
static void *producer(void *arg)
{
    for (long i = 0; i < items; i++) {
        long n;
        if (read(pipe_fds[0], &n, sizeof n) != sizeof n)
            abort();
        pthread_mutex_lock(&lock);
        while (handed != taken)
            pthread_cond_wait(&changed, &lock);
        handed = n;
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&lock);
    }
    return arg;
}

static void *consumer(void *arg)
{
    for (long i = 0; i < items; i++) {
        pthread_mutex_lock(&lock);
        while (handed == taken)
            pthread_cond_wait(&changed, &lock);
        sum = sum * 31 + (unsigned long long)handed;
        taken = handed;
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&lock);
    }
    return arg;
}

static void work(void)
{
    pthread_t p, c;
    if (pipe(pipe_fds) != 0 || pthread_create(&p, NULL, producer, NULL) != 0 ||
        pthread_create(&c, NULL, consumer, NULL) != 0)
        abort();
    for (long i = 1; i <= items; i++) /* each differs from the one before: never equal to taken */
        if (write(pipe_fds[1], &i, sizeof i) != sizeof i)
            abort();
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    printf("worked %ld items, sum %llu\n", items, sum);
}

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "work";
    items = argc > 2 ? atol(argv[2]) : 20000;
    int sfd = -1;
    if (strcmp(mode, "own_handler") == 0) {
        struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = SA_RESTART};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGUSR1, &sa, NULL);
    } else if (strcmp(mode, "signalfd") == 0) {
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &usr1, NULL);
        sfd = signalfd(-1, &usr1, SFD_CLOEXEC);
    }
    for (int i = 0; i < 3 && strcmp(mode, "single") != 0; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, stuck_worker, NULL) != 0)
            abort();
    }
    usleep(20000);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return 1;
    if (strcmp(mode, "single") == 0) {
        puts("alone");
    } else if (strcmp(mode, "own_handler") == 0) {
        printf("handled %d\n", (int)handled);
    } else if (sfd >= 0) {
        struct signalfd_siginfo si;
        int n = 0;
        while (read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo == SIGUSR1 &&
               ++n < atoi(line))
            ;
        printf("read %d\n", n);
    } else {
        work();
    }
    fflush(stdout);
    return 3;
}
