/* threadleak, the command-line tool: one file per command, each described by a tl_cli_command. */
#ifndef TL_CLI_H
#define TL_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct tl_cli_command {
    const char *name;
    const char *synopsis; /* after "threadleak ": "run [-o OPTIONS]... -- PROGRAM [ARG...]" */
    const char *help;     /* what it does, and its options; lines of at most 80 columns */
    int usage_status;     /* its status for a usage error */
    int (*main)(int argc, char **argv); /* argv[0] is the first argument after the name */
} tl_cli_command;

extern const tl_cli_command tl_cli_run, tl_cli_dump, tl_cli_top;

/* A process whose library answers `threadleak dump` (trigger/dump_protocol.h): its helper thread
   and the signal it answers. */
typedef struct tl_dump_target {
    pid_t pid, helper;
    int sig;
} tl_dump_target;
/* 0, or the status of a failed command after one line saying why the process cannot answer. */
int tl_cli_dump_find(pid_t pid, tl_dump_target *target);
/* Asks for a report in format (a tl_format) and copies it to out, waiting at most timeout seconds:
   0; -1, without a word, when the process exited before it answered; or 1 after one line saying
   why not. */
int tl_cli_dump_fetch(const tl_dump_target *target, unsigned format, double timeout, FILE *out);

/* "threadleak: ..." on stderr; returns 1, the status of a failed command. */
int tl_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error of cmd, in one line that points at its help; returns cmd's usage status. */
int tl_cli_usage_error(const tl_cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* --help, -h or --version among a command's options: prints the answer and returns true, with
   *status 0. */
bool tl_cli_common_option(const tl_cli_command *cmd, const char *arg, int *status);
/* The process id that argv[i] must be, as the last argument: false when it is not one. */
bool tl_cli_pid(int argc, char **argv, int i, pid_t *pid);

/* elf.c: whether the dynamic linker can preload library into program, following "#!"
   interpreters; false with the reason, a sentence about program, in why. */
bool tl_cli_preloadable(const char *program, const char *library, char *why, size_t size);

#endif
