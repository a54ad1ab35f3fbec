/* threadleak, the command-line tool. "run" starts a program with the library preloaded; "dump"
   asks a running one for a report (the exchange is described in trigger/dump_protocol.h), "top"
   for a live view of its groups; "help" says how. Every command takes --help and --version. */
#include "cli/cli.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const tl_cli_command *const commands[] = {&tl_cli_run, &tl_cli_dump, &tl_cli_top};

static const char overview[] =
    "Find the threads a C or C++ program leaves behind.\n"
    "\n"
    "The library is preloaded (threadleak run, or LD_PRELOAD=libthreadleak.so) or linked into\n"
    "a test. It reports the threads still blocked at exit, on SIGUSR1, on a crash (SIGSEGV,\n"
    "SIGABRT, ...), at a deadline, when a group keeps growing, or when asked by `threadleak\n"
    "dump`; `threadleak top` watches it live. THREADLEAK_OPTIONS sets\n"
    "where and how (key=value:...): output, format, at_exit, signal, max_frames, exitcode,\n"
    "suppressions, grace_ms, pileup, fatal, terminate, deadline, watch, metrics, debuginfod.\n"
    "\n"
    "`threadleak help COMMAND` tells more of a command; man threadleak, and README.md, of all.\n";

static void usage(FILE *out)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "%s threadleak %s\n", i ? "      " : "usage:", commands[i]->synopsis);
    fputs("       threadleak help [COMMAND]\n"
          "       threadleak --help | --version\n",
          out);
}

static void help(const tl_cli_command *cmd)
{
    printf("usage: threadleak %s\n\n%s", cmd->synopsis, cmd->help);
}

static const tl_cli_command *find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static int unknown(const char *name)
{
    fprintf(stderr, "threadleak: unknown command '%s' (the commands are", name);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(stderr, " %s,", commands[i]->name);
    fputs(" help; see `threadleak --help`)\n", stderr);
    return 2;
}

int tl_cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("threadleak: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int tl_cli_usage_error(const tl_cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "threadleak %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see `threadleak help %s`)\n", cmd->name);
    va_end(ap);
    return cmd->usage_status;
}

bool tl_cli_common_option(const tl_cli_command *cmd, const char *arg, int *status)
{
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
        help(cmd);
    else if (strcmp(arg, "--version") == 0)
        printf("threadleak %s\n", TL_VERSION);
    else
        return false;
    *status = 0;
    return true;
}

bool tl_cli_pid(int argc, char **argv, int i, pid_t *pid)
{
    char *end;
    long n = i + 1 == argc ? strtol(argv[i], &end, 10) : 0;
    if (i + 1 != argc || *end || n <= 0 || n > INT_MAX)
        return false;
    *pid = (pid_t)n;
    return true;
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : NULL;
    const tl_cli_command *cmd;
    if (!name) {
        fputs("threadleak: no command given\n", stderr);
        usage(stderr);
        return 2;
    }
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        usage(stdout);
        fputs("\n", stdout);
        fputs(overview, stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0) {
        printf("threadleak %s\n", TL_VERSION);
        return 0;
    }
    if (strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(argv[2], "--version") == 0)
            return main(2, (char *[]){argv[0], "--version", NULL});
        if (argc < 3 || strcmp(argv[2], "help") == 0 || strcmp(argv[2], "--help") == 0)
            return main(2, (char *[]){argv[0], "--help", NULL});
        if (!(cmd = find(argv[2])))
            return unknown(argv[2]);
        help(cmd);
        return 0;
    }
    if (!(cmd = find(name)))
        return unknown(name);
    return cmd->main(argc - 2, argv + 2);
}
