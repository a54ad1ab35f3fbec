/* What the kernel says of our threads, from /proc/self/task: the threads the library never saw
   created (glibc's own helpers, threads started before it was loaded) and the system call a thread
   sits in when no wrapper recorded why it waits. */
#include "core/proc.h"

#include "core/base.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static ssize_t read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

bool tl_proc_task(pid_t tid, tl_task *task)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    if (read_small(path, buf, sizeof buf) <= 0)
        return false;
    /* "tid (comm) S ...": comm may itself hold ')' and spaces, so split at the last ')'. */
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren < open_paren || close_paren[1] != ' ')
        return false;
    size_t n = (size_t)(close_paren - open_paren - 1);
    if (n >= sizeof task->comm)
        n = sizeof task->comm - 1;
    memcpy(task->comm, open_paren + 1, n);
    task->comm[n] = 0;
    task->state = close_paren[2];
    task->tid = tid;
    /* starttime is the 20th field after the state, the 22nd of the line */
    const char *field = close_paren + 2;
    for (int i = 0; i < 19 && field; i++)
        if ((field = strchr(field, ' ')))
            field++;
    task->start = field ? strtoull(field, NULL, 10) : 0;
    return true;
}

bool tl_proc_runs(pid_t tid, unsigned long long runs[2])
{
    char path[64], buf[96];
    snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", (int)tid);
    /* "ns-on-cpu ns-waiting times-run" */
    return read_small(path, buf, sizeof buf) > 0 &&
           sscanf(buf, "%llu %*u %llu", &runs[0], &runs[1]) == 2;
}

static atomic_int hidden;

void tl_proc_hide(pid_t tid)
{
    atomic_store(&hidden, tid);
}

/* Reading every task's stat costs ~10 us a thread; the list alone is one getdents per few hundred.
   The library's helper thread is left out here, so that no report or snapshot ever sees it. */
size_t tl_proc_tids(pid_t **tids)
{
    size_t n = 0, cap = 64;
    *tids = malloc(cap * sizeof **tids);
    DIR *dir = *tids ? opendir("/proc/self/task") : NULL;
    if (!dir)
        return 0;
    for (struct dirent *e; (e = readdir(dir));) {
        pid_t tid = (pid_t)atoi(e->d_name);
        if (tid <= 0 || tid == atomic_load_explicit(&hidden, memory_order_relaxed))
            continue;
        if (n == cap) {
            pid_t *grown = realloc(*tids, 2 * cap * sizeof **tids);
            if (!grown)
                break;
            *tids = grown;
            cap *= 2;
        }
        (*tids)[n++] = tid;
    }
    closedir(dir);
    qsort(*tids, n, sizeof **tids, tl_tid_cmp);
    return n;
}

bool tl_proc_has(const pid_t *tids, size_t n, pid_t tid)
{
    return bsearch(&tid, tids, n, sizeof tid, tl_tid_cmp) != NULL;
}

static const struct {
    long nr;
    const char *name;
} blocking_syscalls[] = {
    {SYS_futex, "futex"},
    {SYS_read, "read"},
    {SYS_write, "write"},
    {SYS_readv, "readv"},
    {SYS_writev, "writev"},
    {SYS_nanosleep, "nanosleep"},
    {SYS_clock_nanosleep, "clock_nanosleep"},
    {SYS_ppoll, "ppoll"},
    {SYS_pselect6, "pselect6"},
    {SYS_epoll_pwait, "epoll_pwait"},
    {SYS_accept4, "accept4"},
    {SYS_recvfrom, "recvfrom"},
    {SYS_recvmsg, "recvmsg"},
    {SYS_sendto, "sendto"},
    {SYS_sendmsg, "sendmsg"},
    {SYS_connect, "connect"},
    {SYS_rt_sigtimedwait, "rt_sigtimedwait"},
    {SYS_rt_sigsuspend, "rt_sigsuspend"},
    {SYS_wait4, "wait4"},
    {SYS_waitid, "waitid"},
    {SYS_mq_timedreceive, "mq_timedreceive"},
    {SYS_mq_timedsend, "mq_timedsend"},
    {SYS_msgrcv, "msgrcv"},
    {SYS_msgsnd, "msgsnd"},
    {SYS_semtimedop, "semtimedop"},
    {SYS_flock, "flock"},
    {SYS_fcntl, "fcntl"},
    {SYS_restart_syscall, "restart_syscall"},
    {SYS_io_getevents, "io_getevents"},
#ifdef SYS_poll
    {SYS_poll, "poll"},
    {SYS_select, "select"},
    {SYS_epoll_wait, "epoll_wait"},
    {SYS_accept, "accept"},
    {SYS_pause, "pause"},
#endif
};

void tl_proc_wait_object(pid_t tid, char *buf, size_t len)
{
    char path[64], text[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    buf[0] = 0;
    if (read_small(path, text, sizeof text) > 0 && strncmp(text, "running", 7) != 0) {
        long nr = strtol(text, NULL, 10);
        if (nr >= 0) {
            for (size_t i = 0; i < sizeof blocking_syscalls / sizeof *blocking_syscalls; i++)
                if (blocking_syscalls[i].nr == nr) {
                    snprintf(buf, len, "syscall:%s", blocking_syscalls[i].name);
                    return;
                }
            snprintf(buf, len, "syscall:%ld", nr);
            return;
        }
    }
    /* Not in a system call (or /proc/PID/syscall is refused): the wait channel, where shown. */
    snprintf(path, sizeof path, "/proc/self/task/%d/wchan", (int)tid);
    if (read_small(path, text, sizeof text) > 0 && strcmp(text, "0") != 0)
        snprintf(buf, len, "wchan:%s", text);
}
