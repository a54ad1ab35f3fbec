/* threadleak run: a program with the library preloaded, or not at all. It fails closed: when the
   library cannot be found, or cannot be preloaded into the program (elf.c), it exits with status
   125 and one line, as env(1) and timeout(1) do for their own failures, instead of running the
   program unchecked. */
#include "cli/cli.h"

#include "core/duration.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FAILED 125

static int run(int argc, char **argv);

const tl_cli_command tl_cli_run = {
    .name = "run",
    .synopsis = "run [-o OPTIONS]... [-t DURATION] -- PROGRAM [ARG...]",
    .help =
        "Runs PROGRAM with libthreadleak preloaded (after any LD_PRELOAD already set) and exits\n"
        "with its status. The threads PROGRAM leaves are reported at its exit, on stderr unless\n"
        "the options say otherwise.\n"
        "\n"
        "  -o OPTIONS    THREADLEAK_OPTIONS to add (key=value:...); several -o are merged in\n"
        "                order, after any THREADLEAK_OPTIONS already set: the last value of a\n"
        "                key wins\n"
        "  -t DURATION   the deadline option: if PROGRAM still runs after DURATION (90, 90s,\n"
        "                500ms, 5m, 1h), it gets a report and exits with status 124\n"
        "  -h, --help    this help\n"
        "  --version     the version\n"
        "\n"
        "It exits with status 125 and one line, instead of running PROGRAM unchecked, when the\n"
        "library is missing or cannot be preloaded into PROGRAM (a static program, one for\n"
        "another machine, a set-user-ID one, one whose dynamic linker is missing); with 126\n"
        "when PROGRAM cannot be run, and 127 when it is not found.\n",
    .usage_status = FAILED,
    .main = run,
};

/* The library, BINDIR/../lib in the build tree as in an installed prefix, else in the prefix the
   tool was installed to; false when neither has it. dir gets the first directory looked at. */
static bool find_library(char *path, size_t size, char *dir, size_t dir_size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    dir[0] = 0;
    if (n > 0) {
        exe[n] = 0; /* resolved by the kernel: BINDIR is its directory, PREFIX the one above */
        snprintf(dir, dir_size, "%s/lib", dirname(dirname(exe)));
        snprintf(path, size, "%s/libthreadleak.so", dir);
        if (access(path, R_OK) == 0)
            return true;
    }
    snprintf(path, size, "%s/libthreadleak.so", TL_INSTALL_LIBDIR);
    return access(path, R_OK) == 0;
}

/* The file execvp would run for name: name itself when it has a '/', else the first executable
   regular file in PATH. errno ENOENT or EACCES when there is none. */
static bool find_program(const char *name, char *path, size_t size)
{
    if (strchr(name, '/')) {
        snprintf(path, size, "%s", name);
        return access(path, X_OK) == 0;
    }
    const char *dirs = getenv("PATH");
    int err = ENOENT;
    for (dirs = dirs && *dirs ? dirs : "/bin:/usr/bin"; *dirs;) {
        size_t len = strcspn(dirs, ":");
        struct stat st;
        snprintf(path, size, "%.*s%s%s", (int)len, dirs, len ? "/" : "", name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (access(path, X_OK) == 0)
                return true;
            err = EACCES;
        }
        dirs += len + (dirs[len] == ':');
    }
    errno = err;
    return false;
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

/* Adds the values of the -o and -t options in argv[0, end) to THREADLEAK_OPTIONS, in order. */
static int add_options(char **argv, int end)
{
    for (int i = 0; i < end; i += 2) {
        char deadline[64];
        const char *value = argv[i + 1];
        if (strcmp(argv[i], "-t") == 0) { /* checked: at most 9 digits and a unit */
            snprintf(deadline, sizeof deadline, "deadline=%s", value);
            value = deadline;
        }
        if (append_env("THREADLEAK_OPTIONS", value) != 0)
            return -1;
    }
    return 0;
}

static int run(int argc, char **argv)
{
    const tl_cli_command *cmd = &tl_cli_run;
    int i = 0, options_end, status;
    for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0; i += 2) {
        uint64_t ms;
        if (tl_cli_common_option(cmd, argv[i], &status))
            return status;
        if ((strcmp(argv[i], "-o") != 0 && strcmp(argv[i], "-t") != 0) || i + 1 == argc)
            return tl_cli_usage_error(cmd, "%s '%s'",
                                      i + 1 == argc ? "no value after" : "unknown option", argv[i]);
        if (strcmp(argv[i], "-t") == 0 && !tl_duration_parse(argv[i + 1], strlen(argv[i + 1]), &ms))
            return tl_cli_usage_error(
                cmd, "-t takes a duration such as 90, 90s, 500ms, 5m or 1h, not '%s'", argv[i + 1]);
    }
    options_end = i;
    if (i < argc && strcmp(argv[i], "--") == 0)
        i++;
    if (i >= argc)
        return tl_cli_usage_error(cmd, "no program given");

    char lib[PATH_MAX + 32], dir[PATH_MAX], program[PATH_MAX], why[PATH_MAX + 256];
    if (!find_library(lib, sizeof lib, dir, sizeof dir)) {
        tl_cli_fail("libthreadleak.so is neither next to this tool (in %s) nor in its install "
                    "prefix (in %s), so %s would run unchecked",
                    dir, TL_INSTALL_LIBDIR, argv[i]);
        return FAILED;
    }
    if (!find_program(argv[i], program, sizeof program)) {
        int err = errno;
        tl_cli_fail("cannot run %s: %s", argv[i], strerror(err));
        return err == ENOENT ? 127 : 126;
    }
    if (!tl_cli_preloadable(program, lib, why, sizeof why)) {
        tl_cli_fail("cannot preload the library into %s: %s", argv[i], why);
        return FAILED;
    }
    if (append_env("LD_PRELOAD", lib) != 0 || add_options(argv, options_end) != 0) {
        tl_cli_fail("cannot set the environment: %s", strerror(errno));
        return FAILED;
    }
    execvp(argv[i], argv + i); /* the file checked above; a file that is neither ELF nor "#!" is
                                  run by /bin/sh */
    int err = errno;
    tl_cli_fail("cannot run %s: %s", argv[i], strerror(err));
    return err == ENOENT ? 127 : 126;
}
