/* threadleak, the command-line tool: one file per command. */
#ifndef TL_CLI_H
#define TL_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

int tl_cli_run(int argc, char **argv);  /* argv[0] is the first argument after "run" */
int tl_cli_dump(int argc, char **argv); /* likewise */
int tl_cli_top(int argc, char **argv);  /* likewise */

/* A process whose library answers `threadleak dump` (trigger/dump_protocol.h): its helper thread
   and the signal it answers. */
typedef struct tl_dump_target {
    pid_t pid, helper;
    int sig;
} tl_dump_target;
/* 0, or the status of a failed command after one line saying why the process cannot answer. */
int tl_cli_dump_find(pid_t pid, tl_dump_target *target);
/* Asks for a report in format (a tl_format) and copies it to out, waiting at most timeout seconds:
   0, or 1 after one line saying why not. */
int tl_cli_dump_fetch(const tl_dump_target *target, unsigned format, double timeout, FILE *out);

/* "threadleak: ..." on stderr; returns 1, the status of a failed command. */
int tl_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: the message and the usage; returns 2. */
int tl_cli_usage_error(const char *what);

#endif
