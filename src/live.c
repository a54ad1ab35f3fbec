/* Live dumps: a report of the running process when it receives the signal option's signal.

   The handler does only what is safe in a signal handler: it notes the request (a counter, or a
   slot of a small lock-free ring for `threadleak dump`) and wakes the helper thread through a futex.
   The handler is installed before main; the helper thread starts with the program's first thread,
   not before: glibc and libstdc++ take faster paths in a single-threaded process (a mutex or malloc
   without atomic operations), and a thread of ours would cost such a program three times its
   uncontended mutex. A process with no thread but main has nothing to report anyway.
   The helper writes the reports one at a time, so that signals that
   come in a row or during a report give whole reports, never interleaved ones. It runs with the
   library's guard set (its calls are never recorded), blocks every signal but ours, and is left out
   of every report and snapshot.

   A plain signal (kill -USR1 PID) writes a report to the output option. `threadleak dump` sends the
   signal to the helper thread itself, so that no thread of the program is interrupted, with a value
   that names a socket to answer on (see dump_protocol.h).

   The program's own use of the signal wins: a handler it installs, or a wait for the signal
   (sigwait, signalfd), takes the signal back from us, with one line on stderr, and renames the
   helper so that `threadleak dump` knows. */
#include "tl.h"
#include "dump_protocol.h"

#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define REQUESTS 16
#define SEND_TIMEOUT_S 5 /* a tool that stops reading cannot hold the helper longer */

enum { SLOT_FREE, SLOT_FILLING, SLOT_READY };
typedef struct dump_request {
    atomic_int state;
    pid_t pid;
    uint32_t cookie;
    unsigned format;
} dump_request;

static struct {
    atomic_uint wake;          /* bumped by the handler and by changes: the helper's futex word */
    atomic_uint plain;         /* plain signals received */
    unsigned plain_served;     /* the helper's own */
    dump_request dumps[REQUESTS];
    atomic_int helper_tid;
    atomic_bool ours;          /* the signal is ours: our handler is the installed one */
    atomic_bool needs_helper;  /* the helper starts with the program's first thread */
    atomic_bool warned;
    atomic_int main_tid;       /* the process's main thread (the pid), without a system call */
    atomic_bool main_left;     /* main ended with pthread_exit: the last thread to end ends the process */
    tl_lock serving;           /* held while the helper writes a report, so exit can wait for it */
    bool closed;               /* exit has begun: no more live reports */
} live;

/* Raw, so that neither the handler nor the helper ever enters a wrapper. */
static void futex(void *word, int op, unsigned val, const struct timespec *timeout)
{
    syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

static void wake_helper(void)
{
    atomic_fetch_add(&live.wake, 1);
    futex(&live.wake, FUTEX_WAKE_PRIVATE, 1, NULL);
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    static const char alone[] = "threadleak: no thread but main yet, so no report\n";
    if (!atomic_load(&live.ours))
        return;
    int saved = errno;
    if (!atomic_load(&live.helper_tid)) {
        ssize_t ignored = write(STDERR_FILENO, alone, sizeof alone - 1); /* async-signal-safe */
        (void)ignored;
        errno = saved;
        return;
    }
    uint64_t value = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
    if (si->si_code == SI_QUEUE && value >> 40 == TL_DUMP_MAGIC) {
        for (int i = 0; i < REQUESTS; i++) {
            dump_request *d = &live.dumps[i];
            int free_slot = SLOT_FREE;
            if (atomic_compare_exchange_strong(&d->state, &free_slot, SLOT_FILLING)) {
                d->pid = si->si_pid;
                d->cookie = (uint32_t)value;
                d->format = (unsigned)(value >> 32) & 0xff;
                atomic_store_explicit(&d->state, SLOT_READY, memory_order_release);
                break;
            }
        } /* all taken: that tool gets no answer and says so */
    } else {
        atomic_fetch_add(&live.plain, 1);
    }
    wake_helper();
    errno = saved;
}

/* The helper's name tells `threadleak dump` which signal to send, or that there is none. */
static void name_helper(const sigset_t *ours)
{
    char name[16];
    if (atomic_load(&live.ours))
        snprintf(name, sizeof name, TL_HELPER_NAME "%d", tl_opt.signal);
    else
        snprintf(name, sizeof name, TL_HELPER_NAME "-");
    prctl(PR_SET_NAME, name);
    pthread_sigmask(atomic_load(&live.ours) ? SIG_UNBLOCK : SIG_BLOCK, ours, NULL);
}

static tl_report *collect(void)
{
    return tl_report_collect("signal", &(tl_filter){.rules = {tl_file_rules}});
}

static void report_to_output(void)
{
    tl_report *r = collect();
    size_t len;
    char *buf = r ? tl_report_render(r, tl_opt.format, &len) : NULL;
    if (buf)
        tl_output_write(tl_opt.output, buf, len);
    else
        tl_warn("out of memory writing a report on signal");
    free(buf);
    tl_report_free(r);
}

/* Connects to the socket the tool listens on, if the listener is the process that sent the signal. */
static int connect_tool(const dump_request *d)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int n = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, TL_DUMP_SOCKET, (int)d->pid, d->cookie);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval timeout = {.tv_sec = SEND_TIMEOUT_S};
    struct ucred peer;
    socklen_t peer_len = sizeof peer;
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0 ||
        connect(fd, (struct sockaddr *)&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) != 0 || peer.pid != d->pid) {
        close(fd);
        return -1;
    }
    return fd;
}

static void report_to_tool(const dump_request *d)
{
    tl_format format = d->format <= TL_FMT_FOLDED ? (tl_format)d->format : TL_FMT_TEXT;
    int fd = connect_tool(d);
    if (fd < 0)
        return; /* the tool gave up, or someone else sent the value: nothing to answer */
    tl_report *r = collect();
    size_t len;
    char *buf = r ? tl_report_render(r, format, &len) : NULL;
    char header[64];
    if (buf) {
        int n = snprintf(header, sizeof header, TL_DUMP_HEADER, len);
        if (tl_write_all(fd, header, (size_t)n, true))
            tl_write_all(fd, buf, len, true);
    }
    free(buf);
    tl_report_free(r);
    close(fd);
}

static void serve(void)
{
    unsigned plain = atomic_load(&live.plain);
    if (plain != live.plain_served) {
        live.plain_served = plain; /* signals that came during one report are answered by the next */
        report_to_output();
    }
    for (int i = 0; i < REQUESTS; i++) {
        dump_request *d = &live.dumps[i];
        if (atomic_load_explicit(&d->state, memory_order_acquire) == SLOT_READY) {
            dump_request copy = *d;
            atomic_store(&d->state, SLOT_FREE);
            report_to_tool(&copy);
        }
    }
}

/* glibc ends the process when its last thread ends, counting ours: once main has left, that is our
   job. /proc/self/task has two links more than threads, and the leader counts until the end. */
static void end_if_last(void)
{
    struct stat task;
    if (atomic_load(&live.main_left) && stat("/proc/self/task", &task) == 0 && task.st_nlink <= 4)
        exit(0);
}

static void *helper(void *arg)
{
    (void)arg;
    tl_guard = 1; /* for good: nothing this thread does is the program's */
    atomic_store(&live.helper_tid, tl_gettid());
    futex(&live.helper_tid, FUTEX_WAKE_PRIVATE, 1, NULL);
    bool named_ours = !atomic_load(&live.ours);
    sigset_t ours, idle;
    sigemptyset(&ours);
    sigaddset(&ours, tl_opt.signal);
    for (;;) {
        unsigned seen = atomic_load(&live.wake);
        if (named_ours != atomic_load(&live.ours)) {
            named_ours = atomic_load(&live.ours);
            name_helper(&ours);
        }
        /* Our signal waits while we serve: a report's reads are never cut short by it. */
        pthread_sigmask(SIG_BLOCK, &ours, &idle);
        tl_lock_acquire(&live.serving);
        if (!live.closed)
            serve();
        tl_lock_release(&live.serving);
        pthread_sigmask(SIG_SETMASK, &idle, NULL);
        end_if_last();
        struct timespec poll = {0, 20000000}; /* for the threads whose end we do not see */
        futex(&live.wake, FUTEX_WAIT_PRIVATE, seen, atomic_load(&live.main_left) ? &poll : NULL);
    }
    return NULL;
}

/* Started with every signal blocked, so that none of the program's lands on it before it says
   which one it takes. */
static void start_helper(void)
{
    int saved = errno;
    pthread_attr_t attr;
    pthread_t thread;
    sigset_t all, old;
    sigfillset(&all);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    tl_guard++;
    int rc = pthread_create(&thread, &attr, helper, NULL);
    tl_guard--;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    /* Its tid must be known before any report, or the report would list it as the program's. */
    while (rc == 0 && !atomic_load(&live.helper_tid))
        futex(&live.helper_tid, FUTEX_WAIT_PRIVATE, 0, NULL);
    if (rc != 0)
        tl_warn("cannot start the thread that answers signals (%s); live dumps are off", strerror(rc));
    errno = saved;
}

void tl_live_start(void)
{
    int sig = tl_opt.signal;
    atomic_store(&live.main_tid, getpid());
    if (!sig)
        return;
    struct sigaction old, act = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigemptyset(&act.sa_mask);
    tl_guard++;
    bool taken = sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_DFL;
    if (taken)
        tl_warn("signal %d already has a handler or is ignored; it is left to the program, and live "
                "dumps by signal are off", sig);
    else if (sigaction(sig, &act, NULL) == 0)
        atomic_store(&live.ours, true);
    tl_guard--;
    atomic_store(&live.needs_helper, true);
}

bool tl_live_handler(void (*handler)(int))
{
    return (void *)handler == (void *)on_signal; /* SA_SIGINFO: sa_handler aliases sa_sigaction */
}

/* The program waits for the signal itself (sigwait, signalfd). Our handler stays, but does nothing:
   the helper blocks the signal as soon as it hears, and until then a signal it catches is dropped
   rather than turned into the default action, which would end the program. */
void tl_live_waited(const sigset_t *set)
{
    if (tl_opt.signal && sigismember(set, tl_opt.signal) == 1)
        tl_live_taken(tl_opt.signal, false);
}

void tl_live_taken(int sig, bool by_us)
{
    if (!tl_opt.signal || sig != tl_opt.signal || by_us == atomic_load(&live.ours))
        return;
    atomic_store(&live.ours, by_us);
    if (!by_us && !atomic_exchange(&live.warned, true))
        tl_warn("the program takes signal %d for itself; live dumps by signal are off (choose "
                "another with THREADLEAK_OPTIONS=signal=SIGUSR2 or SIGRTMIN+N)", sig);
    wake_helper();
}

pid_t tl_live_helper(void)
{
    return atomic_load(&live.helper_tid);
}

void tl_live_thread_exits(void)
{
    if (tl_gettid() != atomic_load_explicit(&live.main_tid, memory_order_relaxed))
        return;
    atomic_store(&live.main_left, true);
    wake_helper();
}

void tl_live_thread_ended(void)
{
    if (atomic_load_explicit(&live.main_left, memory_order_relaxed))
        wake_helper();
}

void tl_live_stop(void)
{
    tl_lock_acquire(&live.serving);
    live.closed = true;
    tl_lock_release(&live.serving);
}

void tl_live_fork_child(void)
{
    if (!tl_opt.signal)
        return;
    memset(live.dumps, 0, sizeof live.dumps); /* the parent's requests are the parent's */
    atomic_store(&live.helper_tid, 0);
    atomic_store(&live.serving.state, 0);
    live.plain_served = atomic_load(&live.plain);
    atomic_store(&live.needs_helper, true);
    atomic_store(&live.main_left, false); /* the forking thread is the child's main */
    atomic_store(&live.main_tid, getpid());
}

void tl_live_thread_starting(void)
{
    if (TL_UNLIKELY(atomic_load_explicit(&live.needs_helper, memory_order_relaxed)) &&
        atomic_exchange(&live.needs_helper, false))
        start_helper();
}
