/* threadleak, the command-line tool: one file per command. */
#ifndef TL_CLI_H
#define TL_CLI_H

#include <stdbool.h>
#include <sys/types.h>

int tl_cli_run(int argc, char **argv);  /* argv[0] is the first argument after "run" */
int tl_cli_dump(int argc, char **argv); /* likewise */

/* "threadleak: ..." on stderr; returns 1, the status of a failed command. */
int tl_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: the message and the usage; returns 2. */
int tl_cli_usage_error(const char *what);

#endif
