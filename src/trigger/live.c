/* Live dumps: a report of the running process when it receives the signal option's signal.

   The handler does only what is safe in a signal handler: it notes the request (a counter, or a
   slot of a small lock-free ring for `threadleak dump`) and wakes the library's helper thread
   (core/helper.c), whose job writes the reports, one at a time, so that signals that come in a row
   or during a report give whole reports, never interleaved ones.

   A plain signal (kill -USR1 PID) writes a report to the output option. `threadleak dump` sends the
   signal to the helper thread itself, so that no thread of the program is interrupted, with a value
   that names a socket to answer on (see dump_protocol.h).

   The program's own use of the signal wins: a handler installed before main, or one it installs
   later, or a wait for the signal (sigwait, signalfd), makes the signal the program's
   (core/signals.c). Live dumps then move to a free real-time signal, without a word (xz, node,
   memcached, haproxy take SIGUSR1 or SIGUSR2): the helper thread's name says which, so that
   `threadleak dump` keeps working. Only a signal the user chose is worth a line when it moves. */
#include "trigger/live.h"

#include "core/helper.h"
#include "core/options.h"
#include "core/signals.h"
#include "format/format.h"
#include "report/report.h"
#include "trigger/dump_protocol.h"
#include "trigger/output.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
    unsigned version, format;
} dump_request;

static struct {
    atomic_uint plain;     /* plain signals received */
    unsigned plain_served; /* the helper's own */
    dump_request dumps[REQUESTS];
    atomic_int signal; /* the signal live dumps answer now, 0 when none */
    atomic_bool taken; /* the program took it: the helper moves to another */
    int moves;         /* the helper's: a program that takes every signal gets them all */
} live;

#define MOVES 8

static void on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    char name[16];
    if (!tl_signal_is_ours(sig))
        return;
    TL_KEEP_ERRNO;
    if (!tl_helper_tid()) {
        tl_warn_safe(tl_signal_name(sig, name), ": no thread but main yet, so no report", NULL);
        return;
    }
    uint64_t value = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
    if (si->si_code == SI_QUEUE && value >> 48 == TL_DUMP_MAGIC) {
        for (int i = 0; i < REQUESTS; i++) {
            dump_request *d = &live.dumps[i];
            int free_slot = SLOT_FREE;
            if (atomic_compare_exchange_strong(&d->state, &free_slot, SLOT_FILLING)) {
                d->pid = si->si_pid;
                d->cookie = (uint32_t)value;
                d->format = (unsigned)(value >> 32) & 0xff;
                d->version = (unsigned)(value >> 40) & 0xff;
                atomic_store_explicit(&d->state, SLOT_READY, memory_order_release);
                break;
            }
        } /* all taken: that tool gets no answer and says so */
    } else {
        atomic_fetch_add(&live.plain, 1);
    }
    tl_helper_wake();
}

/* From the wrapper of the program's sigaction, signal, sigwait or signalfd: the signal is its.
   Safe in a signal handler, as those wrappers must be: the helper does the moving. */
static void taken(int sig)
{
    (void)sig;
    atomic_store(&live.taken, true);
    tl_helper_wake();
}

/* Our handler for sig, unless something had it first (a handler, or SIG_IGN). */
static bool install(int sig)
{
    struct sigaction old, act = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigemptyset(&act.sa_mask);
    tl_guard++;
    bool free = sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL;
    if (free) {
        tl_signal_own(sig, on_signal, taken);
        free = sigaction(sig, &act, NULL) == 0;
    }
    tl_guard--;
    return free;
}

/* The next free real-time signal, ours; 0 when there is none left. */
static int move(void)
{
    for (int sig; live.moves < MOVES && (sig = tl_signal_free()); live.moves++)
        if (install(sig))
            return sig;
    return 0;
}

/* Says where live dumps went, if the user chose the signal that moved. */
static void say_moved(int from, int to)
{
    char a[16], b[16];
    if (!tl_opt.signal_given)
        return;
    if (to)
        tl_warn("the program takes %s for itself; live dumps answer %s instead",
                tl_signal_name(from, a), tl_signal_name(to, b));
    else
        tl_warn("the program takes %s for itself, and no free signal is left; live dumps are off",
                tl_signal_name(from, a));
}

/* The helper's name tells `threadleak dump` which signal to send, or that there is none; the
   helper unblocks that one only. */
static void name_helper(int old)
{
    char name[16];
    int sig = atomic_load(&live.signal);
    snprintf(name, sizeof name, sig ? TL_HELPER_NAME "%d:%d" : TL_HELPER_NAME "%d:-",
             TL_DUMP_VERSION, sig);
    tl_helper_rename(name);
    sigset_t set;
    sigemptyset(&set);
    if (old) {
        sigaddset(&set, old);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        sigdelset(&set, old);
    }
    if (sig) {
        sigaddset(&set, sig);
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    }
}

/* Connects to the socket the tool listens on, if the listener is the process that sent the signal.
   */
static int connect_tool(const dump_request *d)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int n = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, TL_DUMP_SOCKET, (int)d->pid,
                     d->cookie);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval timeout = {.tv_sec = SEND_TIMEOUT_S};
    struct ucred peer;
    socklen_t peer_len = sizeof peer;
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0 ||
        connect(fd, (struct sockaddr *)&addr, len) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len) != 0 || peer.pid != d->pid) {
        close(fd);
        return -1;
    }
    return fd;
}

static void report_to_tool(const dump_request *d)
{
    tl_format format = d->format <= TL_FMT_TOP ? (tl_format)d->format : TL_FMT_TEXT;
    int fd = connect_tool(d);
    char header[64];
    if (fd < 0)
        return; /* the tool gave up, or someone else sent the value: nothing to answer */
    if (d->version != TL_DUMP_VERSION) {
        int n = snprintf(header, sizeof header, TL_DUMP_REFUSED, TL_DUMP_VERSION);
        tl_write_all(fd, header, (size_t)n, true);
        close(fd);
        return;
    }
    tl_report *r = tl_report_collect("signal", &(tl_filter){.rules = {tl_rules_of_process()}});
    size_t len;
    char *buf = r ? tl_report_render(r, format, &len) : NULL;
    if (buf) {
        int n = snprintf(header, sizeof header, TL_DUMP_HEADER, TL_DUMP_VERSION, len);
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
        live.plain_served = plain; /* signals during one report are answered by the next */
        tl_output_report("signal", &(tl_filter){.rules = {tl_rules_of_process()}});
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

/* The helper's job: name it at its start, move when the program took the signal, then answer the
   requests. Our signal waits while it serves: a report's reads are never cut short by it. */
static uint64_t serve_all(uint64_t now_ns)
{
    (void)now_ns;
    static bool named;
    int sig = atomic_load(&live.signal);
    if (atomic_exchange(&live.taken, false) && sig && !tl_signal_is_ours(sig)) {
        int to = move();
        atomic_store(&live.signal, to);
        say_moved(sig, to);
        name_helper(sig);
        sig = to;
    } else if (!named) {
        name_helper(0);
    }
    named = true;
    sigset_t set, idle;
    sigemptyset(&set);
    if (sig)
        sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, &idle);
    serve();
    pthread_sigmask(SIG_SETMASK, &idle, NULL);
    return 0;
}

/* Before main. A signal that already has a handler (or is ignored) is the program's. */
void tl_live_start(void)
{
    int sig = tl_opt.signal;
    if (!sig)
        return;
    if (!install(sig)) {
        int to = move();
        say_moved(sig, to);
        sig = to;
    }
    atomic_store(&live.signal, sig);
    live.plain_served = atomic_load(&live.plain);
    tl_helper_add(serve_all);
}

void tl_live_drain(void)
{
    if (!tl_opt.signal)
        return;
    tl_guard++;
    serve();
    tl_guard--;
}

void tl_live_fork_child(void)
{
    for (int i = 0; i < REQUESTS; i++) /* the parent's requests are the parent's */
        atomic_store(&live.dumps[i].state, SLOT_FREE);
    live.plain_served = atomic_load(&live.plain);
}
