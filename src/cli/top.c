/* threadleak top PID: a live view of a process's groups of threads, largest first, with each
   group's change since the last refresh. It asks over the channel of `threadleak dump`, for the
   groups as lines (format/top.c), so it needs no ptrace either.

   In a terminal it takes the screen (cli/screen.c) and redraws in place with plain ANSI
   sequences: q quits, and so do Ctrl-C, SIGTERM and SIGHUP; Ctrl-Z suspends. When stdout is not
   a terminal, each refresh is printed as plain lines. Either way it ends, with status 0, when the
   process ends. */
#include "cli/cli.h"
#include "cli/screen.h"

#include "core/options.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ANSWER_TIMEOUT_S 5

static int top(int argc, char **argv);

const tl_cli_command tl_cli_top = {
    .name = "top",
    .synopsis = "top [-n SECONDS] PID",
    .help =
        "A live view of the groups of threads of the running process PID, which has the library\n"
        "loaded, largest first, with each group's change since the last refresh. It asks over\n"
        "the channel of `threadleak dump`, so it needs no ptrace either. In a terminal it\n"
        "redraws in place: q quits, Ctrl-Z suspends; otherwise each refresh is printed as lines.\n"
        "It ends, with status 0, when the process ends.\n"
        "\n"
        "  -n SECONDS    how often to refresh (default 2, at least 0.1)\n"
        "  -h, --help    this help\n"
        "  --version     the version\n",
    .usage_status = 2,
    .main = top,
};

/* One line of the view: groups with the same state, verdict and sites are one row. */
typedef struct row {
    const char *state, *verdict, *created, *waiting; /* into the answer */
    size_t count;
    long change; /* since the refresh before */
} row;

typedef struct view {
    char *answer;
    row *rows;
    size_t n;
    size_t total, leaked;
} view;

static volatile sig_atomic_t quit, resized, suspended;

static void on_quit(int sig)
{
    (void)sig;
    quit = 1;
}

static void on_resize(int sig)
{
    (void)sig;
    resized = 1;
}

static void on_suspend(int sig)
{
    (void)sig;
    suspended = 1;
}

static int by_key(const void *a, const void *b)
{
    const row *x = a, *y = b;
    int c = strcmp(x->state, y->state);
    c = c ? c : strcmp(x->verdict, y->verdict);
    c = c ? c : strcmp(x->created, y->created);
    return c ? c : strcmp(x->waiting, y->waiting);
}

static int by_count(const void *a, const void *b)
{
    const row *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    if (x->change != y->change)
        return x->change < y->change ? 1 : -1;
    return by_key(a, b);
}

static void view_free(view *v)
{
    free(v->answer);
    free(v->rows);
    *v = (view){0};
}

/* Parses the answer into v (which owns it), rows merged and sorted by key; false when it is not
   the groups' format (a library older than `top`, which answers with a text report). */
static bool parse(char *answer, view *v)
{
    *v = (view){.answer = answer};
    size_t lines = 0;
    for (char *p = answer; *p; p++)
        lines += *p == '\n';
    if (strncmp(answer, TL_TOP_HEADER, strlen(TL_TOP_HEADER)) != 0 ||
        !(v->rows = calloc(lines + 1, sizeof *v->rows)))
        return false;
    char *line = answer + strlen(TL_TOP_HEADER), *next;
    if (sscanf(line, "%zu %zu", &v->total, &v->leaked) != 2)
        return false;
    for (line = strchr(line, '\n'); line && (next = strchr(++line, '\n')); line = next) {
        *next = 0;
        char *field[5];
        int n = 0;
        for (char *p = line; n < 5 && p; n++) {
            field[n] = p;
            if ((p = strchr(p, '\t')))
                *p++ = 0;
        }
        if (n == 5)
            v->rows[v->n++] =
                (row){field[1], field[2], field[3], field[4], strtoull(field[0], NULL, 10), 0};
    }
    qsort(v->rows, v->n, sizeof *v->rows, by_key);
    size_t kept = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (kept && by_key(&v->rows[kept - 1], &v->rows[i]) == 0)
            v->rows[kept - 1].count += v->rows[i].count;
        else
            v->rows[kept++] = v->rows[i];
    }
    v->n = kept;
    return true;
}

/* The rows to show: now's, with their change since before (both sorted by key), and before's
   that have gone, with count 0, for one refresh; largest first. They point into both answers.
   NULL when out of memory. */
static row *changes(const view *now, const view *before, bool first, size_t *n)
{
    row *all = malloc((now->n + before->n + 1) * sizeof *all);
    *n = 0;
    for (size_t i = 0, j = 0; all && (i < now->n || j < before->n);) {
        int c = i == now->n ? 1 : j == before->n ? -1 : by_key(&now->rows[i], &before->rows[j]);
        if (c <= 0) {
            all[*n] = now->rows[i++];
            all[*n].change =
                first ? 0 : (long)all[*n].count - (c ? 0 : (long)before->rows[j].count);
            ++*n;
            j += c == 0;
        } else if (before->rows[j].count) {
            all[*n] = before->rows[j++];
            all[*n].change = -(long)all[*n].count;
            all[(*n)++].count = 0;
        } else {
            j++;
        }
    }
    if (all)
        qsort(all, *n, sizeof *all, by_count);
    return all;
}

/* "function /path/file.c:42" as "function file.c:42". */
static void short_site(const char *site, char *buf, size_t len)
{
    const char *space = strrchr(site, ' ');
    const char *colon = space ? strrchr(space, ':') : NULL;
    const char *slash = space ? strrchr(space, '/') : NULL;
    if (!colon || !slash)
        snprintf(buf, len, "%s", site);
    else
        snprintf(buf, len, "%.*s %s", (int)(space - site), site, slash + 1);
}

static void command_of(pid_t pid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "re");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;
    if (f)
        fclose(f);
    while (n > 0 && buf[n - 1] == 0)
        n--;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == 0)
            buf[i] = ' ';
    buf[n] = 0;
}

static void clock_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%H:%M:%S", &tm);
}

/* One line of at most width columns (sites are ASCII, or cut where a byte fits), then the rest of
   the screen line cleared. */
static void line_out(const char *text, int width, bool last)
{
    fwrite(text, 1, strnlen(text, (size_t)width), stdout);
    fputs(last ? "\033[K" : "\033[K\r\n", stdout);
}

/* The columns: count, change, state, verdict, then the sites, the first site_width wide. */
#define COLUMNS "%7s  %6s  %-15s  %-8s  %-*s  %s"
#define FIRST_COLUMNS 44 /* what COLUMNS has before the sites */

static void row_text(const row *r, char *buf, size_t len, int site_width)
{
    char change[24] = "", created[512], waiting[512], count[24];
    if (r->change)
        snprintf(change, sizeof change, "%+ld", r->change);
    snprintf(count, sizeof count, "%zu", r->count);
    short_site(r->created, created, sizeof created);
    short_site(r->waiting, waiting, sizeof waiting);
    if ((int)strlen(created) > site_width)
        created[site_width] = 0;
    snprintf(buf, len, COLUMNS, count, change, r->state, r->verdict, site_width, created, waiting);
}

static void header_text(char *buf, size_t len, int site_width)
{
    snprintf(buf, len, COLUMNS, "COUNT", "CHANGE", "STATE", "VERDICT", site_width, "CREATED BY",
             "WAITING IN");
}

static void draw(const row *rows, size_t n, const view *v, pid_t pid, const char *command,
                 double every)
{
    int width, height;
    char line[2048], when[16];
    tl_screen_size(&width, &height);
    clock_now(when, sizeof when);
    int site_width = (width - FIRST_COLUMNS - 2) / 2;
    site_width = site_width < 12 ? 12 : site_width;
    fputs("\033[H", stdout);
    snprintf(line, sizeof line, "threadleak top - pid %d: %s", (int)pid, command);
    line_out(line, width, false);
    snprintf(line, sizeof line, "%zu threads, %zu leaked   %s, every %g s   q quits", v->total,
             v->leaked, when, every);
    line_out(line, width, false);
    line_out("", width, false);
    header_text(line, sizeof line, site_width);
    printf("\033[7m%-*.*s\033[m\033[K\r\n", width, width, line); /* reverse video */
    int room = height - 4;
    for (size_t i = 0; i < n && room > 0; i++, room--) {
        if (room == 1 && i + 1 < n) {
            snprintf(line, sizeof line, "  ... %zu more groups", n - i);
            line_out(line, width, true);
            break;
        }
        row_text(&rows[i], line, sizeof line, site_width);
        line_out(line, width, room == 1);
    }
    fputs("\033[J", stdout);
    fflush(stdout);
}

/* Not a terminal: each refresh as plain lines, whole, sites uncut. */
static void print(const row *rows, size_t n, const view *v, pid_t pid, const char *command)
{
    char line[2048], when[16], site[512];
    int site_width = 10;
    for (size_t i = 0; i < n; i++) {
        short_site(rows[i].created, site, sizeof site);
        site_width = (int)strlen(site) > site_width ? (int)strlen(site) : site_width;
    }
    clock_now(when, sizeof when);
    printf("threadleak top - pid %d: %s - %s - %zu threads, %zu leaked\n", (int)pid, command, when,
           v->total, v->leaked);
    header_text(line, sizeof line, site_width);
    puts(line);
    for (size_t i = 0; i < n; i++) {
        row_text(&rows[i], line, sizeof line, site_width);
        puts(line);
    }
    putchar('\n');
    fflush(stdout);
}

/* ---- the loop ---- */

/* The process's groups now into v: 0, 1 after one line saying why, or -1 when it has ended. */
static int refresh(tl_dump_target *target, view *v)
{
    char *answer = NULL;
    size_t len = 0;
    if (kill(target->pid, 0) != 0 && errno == ESRCH)
        return -1;
    FILE *out = open_memstream(&answer, &len);
    if (!out)
        return tl_cli_fail("out of memory");
    int rc = tl_cli_dump_fetch(target, TL_FMT_TOP, ANSWER_TIMEOUT_S, out);
    fclose(out);
    if (rc != 0 && kill(target->pid, 0) != 0 && errno == ESRCH)
        rc = -1;
    if (rc == 0 && !parse(answer, v)) {
        view_free(v);
        return tl_cli_fail("process %d runs a libthreadleak older than `threadleak top`: use "
                           "`threadleak dump`",
                           (int)target->pid);
    }
    if (rc != 0)
        free(answer);
    return rc;
}

/* Waits until the next refresh is due, reading keys: false when it is time to quit. */
static bool wait_keys(const tl_screen *s, double seconds)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        double left =
            seconds - (double)(now.tv_sec - start.tv_sec) - (now.tv_nsec - start.tv_nsec) / 1e9;
        if (quit)
            return false;
        if (left <= 0 || resized || suspended)
            return true;
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        int n = poll(&p, s->keys ? 1 : 0, (int)(left * 1000) + 1);
        char key;
        if (n > 0 && read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q'))
            return false;
    }
}

static void handle(int sig, void (*fn)(int))
{
    struct sigaction act = {.sa_handler = fn}; /* no SA_RESTART: poll returns at once */
    sigemptyset(&act.sa_mask);
    sigaction(sig, &act, NULL);
}

/* Ctrl-Z: the terminal is given back while stopped, and taken again after. */
static void suspend(tl_screen *s)
{
    suspended = 0;
    tl_screen_leave(s);
    signal(SIGTSTP, SIG_DFL);
    raise(SIGTSTP);
    handle(SIGTSTP, on_suspend);
    tl_screen_enter(s);
}

static int top(int argc, char **argv)
{
    const tl_cli_command *cmd = &tl_cli_top;
    double every = 2;
    int i = 0, status;
    for (; i < argc && argv[i][0] == '-'; i += 2) {
        char *end;
        if (tl_cli_common_option(cmd, argv[i], &status))
            return status;
        if (i + 1 == argc)
            return tl_cli_usage_error(cmd, "no value after '%s'", argv[i]);
        if (strcmp(argv[i], "-n") != 0)
            return tl_cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        every = strtod(argv[i + 1], &end);
        if (*end || !(every >= 0.1 && every <= 3600))
            return tl_cli_usage_error(cmd, "-n takes a number of seconds, from 0.1");
    }
    pid_t pid;
    if (!tl_cli_pid(argc, argv, i, &pid))
        return tl_cli_usage_error(cmd, "give one process id");
    tl_dump_target target;
    view now = {0}, before = {0};
    char command[512];
    int rc = tl_cli_dump_find(pid, &target);
    if (rc || (rc = refresh(&target, &now)) > 0)
        return rc;
    command_of(pid, command, sizeof command);
    bool tty = isatty(STDOUT_FILENO);
    tl_screen s = {0};
    handle(SIGINT, on_quit);
    handle(SIGTERM, on_quit);
    handle(SIGHUP, on_quit);
    if (tty) {
        handle(SIGWINCH, on_resize);
        handle(SIGTSTP, on_suspend);
        tl_screen_enter(&s);
    }
    for (bool first = true; rc == 0; first = false) {
        size_t n;
        row *rows = changes(&now, &before, first, &n);
        if (!rows) {
            rc = tl_cli_fail("out of memory");
            break;
        }
        if (tty)
            draw(rows, n, &now, pid, command, every);
        else
            print(rows, n, &now, pid, command);
        while (rc == 0) { /* until the next refresh: redrawn after a resize or a suspension */
            if (!wait_keys(&s, every))
                rc = 2; /* quit */
            else if (!resized && !suspended)
                break;
            if (suspended)
                suspend(&s);
            resized = 0;
            if (rc == 0)
                draw(rows, n, &now, pid, command, every);
        }
        free(rows);
        view_free(&before);
        before = now;
        now = (view){0};
        if (rc == 0)
            rc = refresh(&target, &now);
    }
    tl_screen_leave(&s);
    if (rc < 0)
        fprintf(stderr, "threadleak: process %d has ended\n", (int)pid);
    view_free(&now);
    view_free(&before);
    return rc == 1 ? 1 : 0;
}
