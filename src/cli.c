/* threadleak, the command-line tool. "run" starts a program with the library preloaded. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: threadleak run [-o OPTIONS] -- PROGRAM [ARG...]\n"
    "       threadleak --help | --version\n"
    "\n"
    "  run    run PROGRAM with libthreadleak preloaded and report its leaked threads at exit;\n"
    "         OPTIONS (key=value:...) are added to THREADLEAK_OPTIONS, e.g. -o format=json\n"
    "\n"
    "Options (THREADLEAK_OPTIONS): output, format, at_exit, signal, max_frames, exitcode,\n"
    "suppressions, grace_ms, pileup. See README.md.\n";

static int usage_error(const char *what)
{
    fprintf(stderr, "threadleak: %s\n%s", what, usage);
    return 2;
}

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

static int run(int argc, char **argv)
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
            return usage_error("run: unknown option or missing value");
    }
    if (i >= argc)
        return usage_error("run: no program given");
    char lib[PATH_MAX];
    library_path(lib, sizeof lib);
    if (append_env("LD_PRELOAD", lib) != 0 || (options && append_env("THREADLEAK_OPTIONS", options) != 0)) {
        fprintf(stderr, "threadleak: cannot set the environment: %s\n", strerror(errno));
        return 1;
    }
    execvp(argv[i], argv + i);
    int err = errno;
    fprintf(stderr, "threadleak: cannot run %s: %s\n", argv[i], strerror(err));
    return err == ENOENT ? 127 : 126;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("no command given");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("threadleak %s\n", TL_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "run") == 0)
        return run(argc - 2, argv + 2);
    return usage_error("unknown command");
}
