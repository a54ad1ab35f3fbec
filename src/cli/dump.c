/* threadleak dump PID: a report of a running process, without ptrace or files (see
   trigger/dump_protocol.h). */
#include "cli/cli.h"

#include "core/options.h"
#include "trigger/dump_protocol.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int dump(int argc, char **argv);

const tl_cli_command tl_cli_dump = {
    .name = "dump",
    .synopsis = "dump [-f FORMAT] [-t SECONDS] PID",
    .help =
        "Prints a report of the running process PID, which has the library loaded, on stdout.\n"
        "It needs no ptrace and leaves no file behind: the library's helper thread writes the\n"
        "report to an abstract socket the tool listens on.\n"
        "\n"
        "  -f FORMAT     text (the default), full, json, pprof or folded\n"
        "  -t SECONDS    how long to wait for the answer (default 5)\n"
        "  -h, --help    this help\n"
        "  --version     the version\n"
        "\n"
        "It exits with status 1 and one line when PID does not exist, does not have the library\n"
        "loaded, answers no signal, exits before it answers, or does not answer in time.\n",
    .usage_status = 2,
    .main = dump,
};

/* kill or sigqueue failed: the process is gone, or not ours to signal. */
static int signal_failed(pid_t pid)
{
    return errno == ESRCH
               ? tl_cli_fail("no process %d", (int)pid)
               : tl_cli_fail("no permission to signal process %d (%s)", (int)pid, strerror(errno));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The library's helper thread: its tid, the protocol version and the signal its name shows
   (signal 0: the program took it). */
static bool find_helper(pid_t pid, pid_t *tid, unsigned *version, int *sig)
{
    char path[300], comm[32];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *dir = opendir(path);
    if (!dir)
        return false;
    bool found = false;
    for (struct dirent *e; !found && (e = readdir(dir));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%s/comm", (int)pid, e->d_name);
        FILE *f = fopen(path, "re");
        if (f && fgets(comm, sizeof comm, f)) {
            if (strncmp(comm, TL_HELPER_NAME, strlen(TL_HELPER_NAME)) == 0) {
                char *colon = strchr(comm, ':');
                found = true;
                *version = (unsigned)atoi(comm + strlen(TL_HELPER_NAME));
                *sig = colon ? atoi(colon + 1) : 0;
            } else if (strncmp(comm, TL_HELPER_NAME_V1, strlen(TL_HELPER_NAME_V1)) == 0) {
                found = true;
                *version = 1;
                *sig = atoi(comm + strlen(TL_HELPER_NAME_V1));
            }
            if (found)
                *tid = atoi(e->d_name);
        }
        if (f)
            fclose(f);
    }
    closedir(dir);
    return found;
}

/* Why there is no helper: the library is not there, or it answers no signal. */
static int no_helper(pid_t pid)
{
    char path[64], line[4096];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(path, "re");
    if (!maps)
        return tl_cli_fail(
            "process %d shows no threadleak helper thread: libthreadleak is not loaded in "
            "it, or its live dumps are off",
            (int)pid);
    bool loaded = false;
    while (!loaded && fgets(line, sizeof line, maps))
        loaded = strstr(line, "/libthreadleak.so") != NULL;
    fclose(maps);
    if (!loaded)
        return tl_cli_fail(
            "process %d does not have libthreadleak loaded (start it with `threadleak run` "
            "or LD_PRELOAD=libthreadleak.so)",
            (int)pid);
    return tl_cli_fail(
        "process %d has libthreadleak loaded but answers no signal (signal=none, or it has "
        "not started a thread yet: there is nothing to report)",
        (int)pid);
}

/* An abstract socket: a name in no directory, gone with the descriptor. */
static int listen_socket(uint32_t *cookie)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    for (int attempt = 0; fd >= 0 && attempt < 8; attempt++) {
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        if (getrandom(cookie, sizeof *cookie, 0) != sizeof *cookie)
            break;
        int n = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, TL_DUMP_SOCKET, (int)getpid(),
                         *cookie);
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
        if (bind(fd, (struct sockaddr *)&addr, len) == 0)
            return listen(fd, 4) == 0 ? fd : (close(fd), -1);
        if (errno != EADDRINUSE)
            break;
    }
    if (fd >= 0)
        close(fd);
    return -1;
}

/* The process asked, watched through a pidfd (Linux 5.3; -1 before), so that a process that exits
   without answering (its exit had begun) is told at once, not at the deadline. */
typedef struct peer {
    pid_t pid;
    int pidfd;
    double deadline;
} peer;

enum { READY, TIMED_OUT, EXITED };

/* Waits until fd is readable, the process has exited, or the deadline has passed. */
static int wait_readable(int fd, const peer *p)
{
    for (;;) {
        double left = p->deadline - now_s();
        if (left <= 0)
            return TIMED_OUT;
        struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = p->pidfd, .events = POLLIN}};
        int n = poll(fds, 2, (int)(left * 1000) + 1);
        if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP)))
            return READY;
        if (n > 0 && fds[1].revents)
            return EXITED;
        if (n < 0 && errno != EINTR)
            return TIMED_OUT;
    }
}

/* -1, without a word, when the process exited: its caller knows what to say (top: that it
   ended). */
static int no_answer(const peer *p, int why, double timeout)
{
    if (why == EXITED)
        return -1;
    return tl_cli_fail("process %d did not answer within %g s", (int)p->pid, timeout);
}

static int other_version(pid_t pid, unsigned version)
{
    return tl_cli_fail(
        "process %d runs a libthreadleak that speaks dump protocol %u, and this "
        "threadleak (%s) speaks %u: use the threadleak tool of that library's version",
        (int)pid, version, TL_VERSION, TL_DUMP_VERSION);
}

/* Reads the header and the report from the library, copying the report to out: 0 when all of it
   came. */
static int receive(int conn, const peer *p, FILE *out)
{
    char header[64];
    size_t have = 0, length = 0;
    pid_t pid = p->pid;
    while (have < sizeof header - 1 && !memchr(header, '\n', have)) {
        ssize_t n = wait_readable(conn, p) == READY
                        ? read(conn, header + have, sizeof header - 1 - have)
                        : -1;
        if (n <= 0)
            return tl_cli_fail("process %d could not make the report (see its stderr)", (int)pid);
        have += (size_t)n;
    }
    header[have] = 0;
    char *body = strchr(header, '\n');
    unsigned version = 0;
    if (body && sscanf(header, TL_DUMP_REFUSED, &version) == 1 && strstr(header, "refused"))
        return other_version(pid, version);
    if (!body || sscanf(header, TL_DUMP_HEADER, &version, &length) != 2)
        return tl_cli_fail("process %d answered something that is not a report", (int)pid);
    body++;
    size_t got = have - (size_t)(body - header);
    fwrite(body, 1, got, out);
    char buf[65536];
    while (got < length) {
        ssize_t n = wait_readable(conn, p) == READY ? read(conn, buf, sizeof buf) : -1;
        if (n <= 0)
            return tl_cli_fail("process %d stopped after %zu of the report's %zu bytes", (int)pid,
                               got, length);
        fwrite(buf, 1, (size_t)n, out);
        got += (size_t)n;
    }
    return fflush(out) == 0 ? 0 : tl_cli_fail("cannot write the report: %s", strerror(errno));
}

int tl_cli_dump_find(pid_t pid, tl_dump_target *target)
{
    unsigned version = 0;
    *target = (tl_dump_target){.pid = pid};
    if (kill(pid, 0) != 0)
        return signal_failed(pid);
    if (!find_helper(pid, &target->helper, &version, &target->sig))
        return no_helper(pid);
    if (version != TL_DUMP_VERSION)
        return other_version(pid, version);
    if (!target->sig)
        return tl_cli_fail("process %d handles every signal threadleak could answer, so its live "
                           "dumps are off",
                           (int)pid);
    return 0;
}

int tl_cli_dump_fetch(const tl_dump_target *target, unsigned format, double timeout, FILE *out)
{
    pid_t pid = target->pid;
    int sig = target->sig;
    uint32_t cookie;
    peer p = {pid, (int)syscall(SYS_pidfd_open, pid, 0), 0};
    int listener = listen_socket(&cookie);
    if (listener < 0) {
        close(p.pidfd);
        return tl_cli_fail("cannot listen for the answer: %s", strerror(errno));
    }
    siginfo_t info = {.si_signo = sig, .si_code = SI_QUEUE};
    info.si_pid = getpid();
    info.si_uid = getuid();
    info.si_value.sival_ptr = (void *)(uintptr_t)tl_dump_value(format, cookie);
    /* To the helper thread itself: no thread of the program is interrupted. The helper was
       found a moment ago: if it is gone now, the process is on its way out. */
    if (syscall(SYS_rt_tgsigqueueinfo, pid, target->helper, sig, &info) != 0) {
        int err = errno;
        close(listener);
        close(p.pidfd);
        errno = err;
        return err == ESRCH ? -1 : signal_failed(pid);
    }
    p.deadline = now_s() + timeout;
    int rc = -1, why;
    while (rc < 0) {
        if ((why = wait_readable(listener, &p)) != READY) {
            rc = no_answer(&p, why, timeout);
            break;
        }
        int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        struct ucred peer;
        socklen_t len = sizeof peer;
        if (conn >= 0 && getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 &&
            peer.pid == pid)
            rc = receive(conn, &p, out);
        if (conn >= 0)
            close(conn); /* a stranger that found the name: not the answer */
    }
    close(listener);
    close(p.pidfd);
    return rc;
}

static int dump(int argc, char **argv)
{
    static const char *const formats[] = {TL_FORMAT_NAMES};
    const tl_cli_command *cmd = &tl_cli_dump;
    unsigned format = 0;
    double timeout = 5;
    int i = 0, status;
    for (; i < argc && argv[i][0] == '-'; i += 2) {
        if (tl_cli_common_option(cmd, argv[i], &status))
            return status;
        if (i + 1 == argc)
            return tl_cli_usage_error(cmd, "no value after '%s'", argv[i]);
        if (strcmp(argv[i], "-f") == 0) {
            for (format = 0; format < sizeof formats / sizeof *formats; format++)
                if (strcmp(argv[i + 1], formats[format]) == 0)
                    break;
            if (format == sizeof formats / sizeof *formats)
                return tl_cli_usage_error(cmd, "-f takes text, full, json, pprof or folded");
        } else if (strcmp(argv[i], "-t") == 0) {
            char *end;
            timeout = strtod(argv[i + 1], &end);
            if (*end || !(timeout > 0 && timeout <= 3600))
                return tl_cli_usage_error(cmd, "-t takes a number of seconds, more than 0");
        } else {
            return tl_cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        }
    }
    pid_t pid;
    if (!tl_cli_pid(argc, argv, i, &pid))
        return tl_cli_usage_error(cmd, "give one process id");
    tl_dump_target target;
    int rc = tl_cli_dump_find(pid, &target);
    if (rc == 0 && (rc = tl_cli_dump_fetch(&target, format, timeout, stdout)) < 0)
        rc = tl_cli_fail("process %d exited before it answered", (int)target.pid);
    return rc;
}
