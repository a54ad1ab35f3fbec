/* threadleak, the command-line tool. "run" starts a program with the library preloaded; "dump"
   asks a running one for a report (the exchange is described in dump_protocol.h). */
#define _GNU_SOURCE
#include "dump_protocol.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
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

static const char usage[] =
    "usage: threadleak run [-o OPTIONS] -- PROGRAM [ARG...]\n"
    "       threadleak dump [-f FORMAT] [-t SECONDS] PID\n"
    "       threadleak --help | --version\n"
    "\n"
    "  run    run PROGRAM with libthreadleak preloaded and report its leaked threads at exit;\n"
    "         OPTIONS (key=value:...) are added to THREADLEAK_OPTIONS, e.g. -o format=json\n"
    "  dump   print a report of the running process PID, which has the library loaded, on\n"
    "         stdout: FORMAT is text (default), full, json, pprof or folded; it waits SECONDS\n"
    "         (default 5) for the answer. Needs no ptrace and leaves no file behind.\n"
    "\n"
    "Options (THREADLEAK_OPTIONS): output, format, at_exit, signal, max_frames, exitcode,\n"
    "suppressions, grace_ms, pileup. See README.md.\n";

static int usage_error(const char *what)
{
    fprintf(stderr, "threadleak: %s\n%s", what, usage);
    return 2;
}

/* The library next to this tool: BINDIR/../lib, in the build tree as in an installed prefix. */
static void library_path(char *path, size_t size)
{
    char exe[PATH_MAX], dir[PATH_MAX + 8];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        snprintf(dir, sizeof dir, "%s/../lib", dirname(exe));
        char *libdir = realpath(dir, NULL);
        if (libdir) {
            snprintf(path, size, "%s/libthreadleak.so", libdir);
            free(libdir);
            if (access(path, R_OK) == 0)
                return;
        }
    }
    snprintf(path, size, "libthreadleak.so.0"); /* let the dynamic linker search for it */
}

/* Appends value to the colon-separated variable name, keeping what is there first. */
static int append_env(const char *name, const char *value)
{
    const char *old = getenv(name);
    if (!old || !*old)
        return setenv(name, value, 1);
    char *joined;
    if (asprintf(&joined, "%s:%s", old, value) < 0)
        return -1;
    int rc = setenv(name, joined, 1);
    free(joined);
    return rc;
}

static int run(int argc, char **argv)
{
    const char *options = NULL;
    int i = 0;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            options = argv[i + 1], i += 2;
        else
            return usage_error("run: unknown option or missing value");
    }
    if (i >= argc)
        return usage_error("run: no program given");
    char lib[PATH_MAX];
    library_path(lib, sizeof lib);
    if (append_env("LD_PRELOAD", lib) != 0 || (options && append_env("THREADLEAK_OPTIONS", options) != 0)) {
        fprintf(stderr, "threadleak: cannot set the environment: %s\n", strerror(errno));
        return 1;
    }
    execvp(argv[i], argv + i);
    int err = errno;
    fprintf(stderr, "threadleak: cannot run %s: %s\n", argv[i], strerror(err));
    return err == ENOENT ? 127 : 126;
}

/* ---- dump ---- */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("threadleak: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

/* kill or sigqueue failed: the process is gone, or not ours to signal. */
static int signal_failed(pid_t pid)
{
    return errno == ESRCH ? fail("no process %d", (int)pid)
                          : fail("no permission to signal process %d (%s)", (int)pid, strerror(errno));
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The library's helper thread: its tid, and the signal its name shows (0: the program took it). */
static bool find_helper(pid_t pid, pid_t *tid, int *sig)
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
        if (f && fgets(comm, sizeof comm, f) &&
            strncmp(comm, TL_HELPER_NAME, strlen(TL_HELPER_NAME)) == 0) {
            found = true;
            *tid = atoi(e->d_name);
            *sig = atoi(comm + strlen(TL_HELPER_NAME));
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
        return fail("process %d shows no threadleak helper thread: libthreadleak is not loaded in "
                    "it, or its live dumps are off", (int)pid);
    bool loaded = false;
    while (!loaded && fgets(line, sizeof line, maps))
        loaded = strstr(line, "/libthreadleak.so") != NULL;
    fclose(maps);
    if (!loaded)
        return fail("process %d does not have libthreadleak loaded (start it with `threadleak run` "
                    "or LD_PRELOAD=libthreadleak.so)", (int)pid);
    return fail("process %d has libthreadleak loaded but answers no signal (signal=none, or it has "
                "not started a thread yet: there is nothing to report)", (int)pid);
}

/* An abstract socket: a name in no directory, gone with the descriptor. */
static int listen_socket(uint32_t *cookie)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    for (int attempt = 0; fd >= 0 && attempt < 8; attempt++) {
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        if (getrandom(cookie, sizeof *cookie, 0) != sizeof *cookie)
            break;
        int n = snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, TL_DUMP_SOCKET, (int)getpid(), *cookie);
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

/* Waits until fd is readable or the deadline passes. */
static bool wait_readable(int fd, double deadline)
{
    for (;;) {
        double left = deadline - now_s();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, (int)(left * 1000) + 1);
        if (n > 0)
            return true;
        if (n < 0 && errno != EINTR)
            return false;
    }
}

/* Reads the header and the report from the library, copying the report to stdout: 0 when all of
   it came. */
static int receive(int conn, pid_t pid, double deadline)
{
    char header[64];
    size_t have = 0, length = 0;
    while (have < sizeof header - 1 && !memchr(header, '\n', have)) {
        ssize_t n = wait_readable(conn, deadline) ? read(conn, header + have, sizeof header - 1 - have) : -1;
        if (n <= 0)
            return fail("process %d could not make the report (see its stderr)", (int)pid);
        have += (size_t)n;
    }
    header[have] = 0;
    char *body = strchr(header, '\n');
    if (!body || sscanf(header, TL_DUMP_HEADER, &length) != 1)
        return fail("process %d answered something that is not a report", (int)pid);
    body++;
    size_t got = have - (size_t)(body - header);
    fwrite(body, 1, got, stdout);
    char buf[65536];
    while (got < length) {
        ssize_t n = wait_readable(conn, deadline) ? read(conn, buf, sizeof buf) : -1;
        if (n <= 0)
            return fail("process %d stopped after %zu of the report's %zu bytes", (int)pid, got, length);
        fwrite(buf, 1, (size_t)n, stdout);
        got += (size_t)n;
    }
    return fflush(stdout) == 0 ? 0 : fail("cannot write the report: %s", strerror(errno));
}

static int dump(int argc, char **argv)
{
    static const char *const formats[] = {TL_FORMAT_NAMES};
    unsigned format = 0;
    double timeout = 5;
    int i = 0;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (strcmp(argv[i], "-f") == 0) {
            for (format = 0; format < sizeof formats / sizeof *formats; format++)
                if (strcmp(argv[i + 1], formats[format]) == 0)
                    break;
            if (format == sizeof formats / sizeof *formats)
                return usage_error("dump: -f takes text, full, json, pprof or folded");
        } else if (strcmp(argv[i], "-t") == 0) {
            char *end;
            timeout = strtod(argv[i + 1], &end);
            if (*end || !(timeout > 0 && timeout <= 3600))
                return usage_error("dump: -t takes a number of seconds, more than 0");
        } else {
            return usage_error("dump: unknown option");
        }
    }
    char *end;
    long pid_arg = i + 1 == argc ? strtol(argv[i], &end, 10) : 0;
    if (i + 1 != argc || *end || pid_arg <= 0 || pid_arg > INT_MAX)
        return usage_error("dump: give one process id");
    pid_t pid = (pid_t)pid_arg;

    if (kill(pid, 0) != 0)
        return signal_failed(pid);
    pid_t helper;
    int sig;
    if (!find_helper(pid, &helper, &sig))
        return no_helper(pid);
    if (!sig)
        return fail("process %d has taken threadleak's signal for itself, so live dumps are off "
                    "(restart it with THREADLEAK_OPTIONS=signal=SIGUSR2 or SIGRTMIN+N)", (int)pid);
    uint32_t cookie;
    int listener = listen_socket(&cookie);
    if (listener < 0)
        return fail("cannot listen for the answer: %s", strerror(errno));
    siginfo_t info = {.si_signo = sig, .si_code = SI_QUEUE};
    info.si_pid = getpid();
    info.si_uid = getuid();
    info.si_value.sival_ptr = (void *)(uintptr_t)tl_dump_value(format, cookie);
    /* To the helper thread itself: no thread of the program is interrupted. */
    if (syscall(SYS_rt_tgsigqueueinfo, pid, helper, sig, &info) != 0) {
        int err = errno;
        close(listener);
        errno = err;
        return signal_failed(pid);
    }
    double deadline = now_s() + timeout;
    int rc = -1;
    while (rc < 0) {
        if (!wait_readable(listener, deadline)) {
            rc = fail("process %d did not answer within %g s", (int)pid, timeout);
            break;
        }
        int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        struct ucred peer;
        socklen_t len = sizeof peer;
        if (conn >= 0 && getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 && peer.pid == pid)
            rc = receive(conn, pid, deadline);
        if (conn >= 0)
            close(conn); /* a stranger that found the name: not the answer */
    }
    close(listener);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("no command given");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("threadleak %s\n", TL_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "run") == 0)
        return run(argc - 2, argv + 2);
    if (strcmp(argv[1], "dump") == 0)
        return dump(argc - 2, argv + 2);
    return usage_error("unknown command");
}
