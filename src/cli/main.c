/* threadleak, the command-line tool. "run" starts a program with the library preloaded; "dump"
   asks a running one for a report (the exchange is described in trigger/dump_protocol.h). */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: threadleak run [-o OPTIONS] -- PROGRAM [ARG...]\n"
    "       threadleak dump [-f FORMAT] [-t SECONDS] PID\n"
    "       threadleak top [-n SECONDS] PID\n"
    "       threadleak --help | --version\n"
    "\n"
    "  run    run PROGRAM with libthreadleak preloaded and report its leaked threads at exit;\n"
    "         OPTIONS (key=value:...) are added to THREADLEAK_OPTIONS, e.g. -o format=json\n"
    "  dump   print a report of the running process PID, which has the library loaded, on\n"
    "         stdout: FORMAT is text (default), full, json, pprof or folded; it waits SECONDS\n"
    "         (default 5) for the answer. Needs no ptrace and leaves no file behind.\n"
    "  top    a live view of PID's groups of threads, largest first, with each one's change\n"
    "         since the last refresh, every SECONDS (default 2); q quits\n"
    "\n"
    "Options (THREADLEAK_OPTIONS): output, format, at_exit, signal, max_frames, exitcode,\n"
    "suppressions, grace_ms, pileup. See README.md.\n";

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

int tl_cli_usage_error(const char *what)
{
    fprintf(stderr, "threadleak: %s\n%s", what, usage);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return tl_cli_usage_error("no command given");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("threadleak %s\n", TL_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "run") == 0)
        return tl_cli_run(argc - 2, argv + 2);
    if (strcmp(argv[1], "dump") == 0)
        return tl_cli_dump(argc - 2, argv + 2);
    if (strcmp(argv[1], "top") == 0)
        return tl_cli_top(argc - 2, argv + 2);
    return tl_cli_usage_error("unknown command");
}
