/* threadleak run: a program with the library preloaded. */
#include "cli/cli.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int tl_cli_run(int argc, char **argv)
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
            return tl_cli_usage_error("run: unknown option or missing value");
    }
    if (i >= argc)
        return tl_cli_usage_error("run: no program given");
    char lib[PATH_MAX];
    library_path(lib, sizeof lib);
    if (append_env("LD_PRELOAD", lib) != 0 ||
        (options && append_env("THREADLEAK_OPTIONS", options) != 0)) {
        fprintf(stderr, "threadleak: cannot set the environment: %s\n", strerror(errno));
        return 1;
    }
    execvp(argv[i], argv + i);
    int err = errno;
    fprintf(stderr, "threadleak: cannot run %s: %s\n", argv[i], strerror(err));
    return err == ENOENT ? 127 : 126;
}
