/* Start-up, the report at exit, and fork.

   Start-up is idempotent and lazy: the constructor runs it, and so does every wrapper, because other
   libraries' constructors may create threads before ours has run. The at-exit report is registered
   with atexit just before main runs (see __libc_start_main in interpose.c), so it runs before static
   destructors and library destructors, while the threads it judges still find the program intact. */
#include "tl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

__thread int tl_guard __attribute__((tls_model("initial-exec")));
atomic_bool tl_initialized;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static __thread pid_t cached_tid __attribute__((tls_model("initial-exec")));

pid_t tl_gettid(void)
{
    if (!cached_tid)
        cached_tid = gettid();
    return cached_tid;
}

uint64_t tl_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void tl_warn(const char *fmt, ...)
{
    int saved = errno;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(line, sizeof line, "threadleak: ");
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
    (void)ignored;
    errno = saved;
}

/* fork copies only the calling thread: take our locks so that no other thread holds them at the
   moment of the copy, and in the child forget every thread but the caller. */
static void fork_prepare(void)
{
    tl_lock_acquire(&tl_registry_lock);
    tl_lock_acquire(&tl_resource_lock);
    tl_lock_acquire(&tl_stack_lock);
}

static void fork_parent(void)
{
    tl_lock_release(&tl_stack_lock);
    tl_lock_release(&tl_resource_lock);
    tl_lock_release(&tl_registry_lock);
}

static void fork_child(void)
{
    cached_tid = 0;
    tl_registry_fork_child();
    tl_resource_fork_child();
    tl_timer_helper_fork_child();
    tl_live_fork_child();
    tl_symbolizer_fork_child();
    atomic_store(&tl_stack_lock.state, 0);
    atomic_store(&tl_resource_lock.state, 0);
    atomic_store(&tl_registry_lock.state, 0);
}

tl_rules *tl_file_rules;

static void load_suppressions(const char *path)
{
    FILE *f = fopen(path, "re");
    char *text = NULL;
    size_t len = 0;
    if (f) {
        FILE *all = open_memstream(&text, &len);
        for (int c; all && (c = getc(f)) != EOF;)
            putc(c, all);
        if (all)
            fclose(all);
        fclose(f);
    }
    if (!text)
        tl_warn("cannot read suppressions file %s (%s); nothing is suppressed", path, strerror(errno));
    else
        tl_rules_add(&tl_file_rules, text, path);
    free(text);
}

static void init_once(void)
{
    tl_guard++;
    tl_interpose_bind();
    tl_options_defaults(&tl_opt);
    tl_options_parse(&tl_opt, secure_getenv("THREADLEAK_OPTIONS"));
    tl_stack_init();
    tl_registry_init();
    if (tl_opt.suppressions[0])
        load_suppressions(tl_opt.suppressions);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    tl_guard--;
    atomic_store_explicit(&tl_initialized, true, memory_order_release);
}

void tl_init(void)
{
    pthread_once(&once, init_once);
}

__attribute__((constructor)) static void constructor(void)
{
    tl_init();
}

/* Threads still running at exit get grace_ms to finish, polled with a growing sleep, so that a
   clean program pays nothing and a thread finishing its last lines is not called a leak. */
static void grace(void)
{
    uint64_t deadline = tl_now_ns() + tl_opt.grace_ms * 1000000ull;
    long step_us = 200;
    pid_t me = tl_gettid();
    while (!tl_registry_all_exited(me)) {
        uint64_t now = tl_now_ns();
        if (now >= deadline)
            break;
        uint64_t left_us = (deadline - now) / 1000;
        usleep((useconds_t)(left_us < (uint64_t)step_us ? left_us : (uint64_t)step_us));
        if (step_us < 20000)
            step_us *= 2;
    }
}

static void report_at_exit(void)
{
    size_t leaked = 0;
    tl_guard++;
    grace();
    tl_report *r = tl_report_collect("exit", &(tl_filter){.rules = {tl_file_rules}});
    if (r) {
        leaked = r->threads_leaked;
        /* A clean exit prints nothing for people, as the sanitizers do; the machine formats are
           always written so that a script can tell "clean" from "not run". Leaked resources are
           reported, but only threads change the exit status. */
        bool quiet = !leaked && !r->nresources &&
                     (tl_opt.format == TL_FMT_TEXT || tl_opt.format == TL_FMT_FULL);
        size_t len;
        char *buf = quiet ? NULL : tl_report_render(r, tl_opt.format, &len);
        if (buf)
            tl_output_write(tl_opt.output, buf, len);
        else if (!quiet)
            tl_warn("out of memory writing the exit report");
        free(buf);
        tl_report_free(r);
    } else {
        tl_warn("out of memory collecting the exit report");
    }
    tl_guard--;
    /* glibc runs the remaining exit handlers and flushes stdio when exit is called from a handler. */
    if (leaked && tl_opt.exitcode)
        exit(tl_opt.exitcode);
}

void tl_main_starting(void)
{
    tl_init();
    /* Exit handlers run last registered first: a live report being written ends before the exit
       report begins. */
    if ((tl_opt.at_exit && atexit(report_at_exit) != 0) || atexit(tl_live_stop) != 0)
        tl_warn("cannot register the exit report");
    tl_live_start();
}
