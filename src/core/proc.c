/* What the kernel says of our threads, from /proc/self/task: the threads the library never saw
   created (glibc's own helpers, threads started before it was loaded) and the system call a thread
   sits in when no wrapper recorded why it waits.

   Under a user-mode emulator (qemu-user running an aarch64 program on an x86_64 host) the kernel
   sees the emulator, not the program: /proc/self/task also lists the emulator's own threads, and a
   thread's system call is the host's, numbered as the host numbers them. */
#include "core/proc.h"

#include "core/base.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Under an emulator, its own threads: noted before the first thread made through us and before the
   first listing, when every thread but main and the caller is the emulator's (qemu makes its RCU
   thread before the program's first instruction, and anew in a fork child before the child runs).
   Noted again in a fork child. */
static enum { EMULATION_UNKNOWN, EMULATED, NATIVE } emulation; /* kept across fork */
static atomic_int noted; /* 0 not yet, 1 being noted, 2 done: emulator_tids can be read */
static pid_t emulator_tids[4];
static unsigned nemulator;

void tl_proc_hide(pid_t tid)
{
    atomic_store(&hidden, tid);
}

static bool hidden_tid(pid_t tid)
{
    if (tid == atomic_load_explicit(&hidden, memory_order_relaxed))
        return true;
    if (atomic_load_explicit(&noted, memory_order_acquire) == 2)
        for (unsigned i = 0; i < nemulator; i++)
            if (emulator_tids[i] == tid)
                return true;
    return false;
}

/* Reading every task's stat costs ~10 us a thread; the list alone is one getdents per few hundred.
   The library's helper thread is left out here, so that no report or snapshot ever sees it. */
static size_t list_tids(pid_t **tids)
{
    size_t n = 0, cap = 64;
    *tids = malloc(cap * sizeof **tids);
    DIR *dir = *tids ? opendir("/proc/self/task") : NULL;
    if (!dir)
        return 0;
    for (struct dirent *e; (e = readdir(dir));) {
        pid_t tid = (pid_t)atoi(e->d_name);
        if (tid <= 0 || hidden_tid(tid))
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

/* An emulator shows the program its own executable as /proc/self/exe, and leaves the same link
   of each task, which it does not know, to the kernel: there the two differ (in their first 512
   bytes, as far as they are compared). Two readlinks, once per process. */
static bool under_emulator(void)
{
    char self[512], task[512], path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/exe", (int)tl_gettid());
    ssize_t a = readlink("/proc/self/exe", self, sizeof self);
    ssize_t b = readlink(path, task, sizeof task);
    return a > 0 && b > 0 && (a != b || memcmp(self, task, (size_t)a) != 0);
}

void tl_proc_note_emulator(void)
{
    int not_yet = 0;
    if (TL_LIKELY(atomic_load_explicit(&noted, memory_order_acquire) == 2) ||
        !atomic_compare_exchange_strong(&noted, &not_yet, 1))
        return; /* done, or being done by another thread: until then, nothing is left out */
    if (emulation == EMULATION_UNKNOWN)
        emulation = under_emulator() ? EMULATED : NATIVE;
    nemulator = 0;
    if (emulation == EMULATED) {
        pid_t *tids;
        size_t n = list_tids(&tids);
        for (size_t i = 0; i < n && nemulator < TL_LENGTH(emulator_tids); i++)
            if (tids[i] != getpid() && tids[i] != tl_gettid())
                emulator_tids[nemulator++] = tids[i];
        free(tids);
    }
    atomic_store_explicit(&noted, 2, memory_order_release);
}

void tl_proc_fork_child(void)
{
    atomic_store(&noted, 0);
}

unsigned tl_proc_emulator_threads(void)
{
    tl_proc_note_emulator();
    return atomic_load_explicit(&noted, memory_order_acquire) == 2 ? nemulator : 0;
}

size_t tl_proc_tids(pid_t **tids)
{
    tl_proc_note_emulator();
    return list_tids(tids);
}

/* /proc/self/task has two links more than the kernel's threads: the leader counts until the end. */
long tl_proc_others(void)
{
    struct stat task;
    tl_proc_note_emulator();
    if (emulation != NATIVE || stat("/proc/self/task", &task) != 0 || task.st_nlink < 3)
        return -1;
    return (long)task.st_nlink - 3 - (atomic_load(&hidden) != 0);
}

bool tl_proc_has(const pid_t *tids, size_t n, pid_t tid)
{
    return bsearch(&tid, tids, n, sizeof tid, tl_tid_cmp) != NULL;
}

/* Every system call the C library's headers name on this platform (generated at configure time
   by cmake/syscall_names.cmake), so that a wait in any of them is named: io_uring_enter,
   futex_waitv, epoll_pwait2 as well as read. A number is left only for a call the headers do not
   know. The names are kept in place, not pointed to: a table of pointers is relocated at load,
   in every process, on pages nothing else would touch. */
static const struct {
    int nr;
    char name[28];
} syscalls[] = {
#define X(name) {SYS_##name, #name},
#include "tl_syscall_names.h"
#undef X
};

void tl_proc_wait_object(pid_t tid, char *buf, size_t len)
{
    char path[64], text[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    buf[0] = 0;
    tl_proc_note_emulator();
    if (emulation != EMULATED && read_small(path, text, sizeof text) > 0 &&
        strncmp(text, "running", 7) != 0) {
        long nr = strtol(text, NULL, 10);
        if (nr >= 0) {
            for (size_t i = 0; i < TL_LENGTH(syscalls); i++)
                if (syscalls[i].nr == nr) {
                    snprintf(buf, len, "syscall:%.*s", (int)sizeof syscalls[i].name,
                             syscalls[i].name);
                    return;
                }
            snprintf(buf, len, "syscall:%ld", nr);
            return;
        }
    }
    /* Not in a system call, /proc/PID/syscall refused, or the host's call under an emulator: the
       wait channel, where shown. */
    snprintf(path, sizeof path, "/proc/self/task/%d/wchan", (int)tid);
    if (read_small(path, text, sizeof text) > 0 && strcmp(text, "0") != 0)
        snprintf(buf, len, "wchan:%s", text);
}
