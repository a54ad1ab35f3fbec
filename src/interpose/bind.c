/* Binding the real functions, and the program's start. */
#include "interpose/interpose.h"

#include <dlfcn.h>

tl_real tl_real_fn;

/* The names as arrays, not pointers: pointers would be relocated at every start, and these tables
   would push the relocated data past one page (one more page fault in every process). */
static const char names[][28] = {
#define TL_REAL_NAME(fn, version) #fn,
    TL_REAL_FUNCTIONS(TL_REAL_NAME)};
static const char *const versions[] = {
#define TL_REAL_VERSION(fn, version) version,
    TL_REAL_FUNCTIONS(TL_REAL_VERSION)};
_Static_assert(sizeof(tl_real) == TL_REAL_COUNT * sizeof(void *),
               "tl_real is an array of pointers");

/* A real function that is missing altogether: what the call returns, rather than a crash. */
static long missing(void)
{
    errno = ENOSYS;
    return -1;
}

static void *lookup(void *handle, const char *name, const char *version)
{
    return version ? dlvsym(handle, name, version) : dlsym(handle, name);
}

/* The next definition after us is the real one, or another interposer's that chains on; when libc
   itself was preloaded ahead of us there is none after us, and libc's own is taken. A symbol of
   another version than the platform layer expects falls back on the default version. Binding
   races are harmless: every thread stores the same address. */
void *tl_real_bind(unsigned index)
{
    const char *name = names[index], *version = versions[index];
    void *fn = lookup(RTLD_NEXT, name, version);
    void *libc = fn ? NULL : dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    if (!fn && libc)
        fn = lookup(libc, name, version);
    if (!fn && version)
        fn = dlsym(libc ? libc : RTLD_NEXT, name);
    if (!fn) {
        tl_warn("cannot find the real %s%s%s; calls to it fail with ENOSYS", name,
                version ? "@" : "", version ? version : "");
        fn = (void *)missing;
    }
    __atomic_store_n(&((void **)&tl_real_fn)[index], fn, __ATOMIC_RELEASE);
    return fn;
}

/* ---- program start ---- */

static tl_main_fn *program_main;

static int main_trampoline(int argc, char **argv, char **envp)
{
    tl_main_starting();
    return program_main(argc, argv, envp);
}

TL_API int __libc_start_main(tl_main_fn *main, int argc, char **argv, void (*init)(void),
                             void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
    tl_start();
    program_main = main;
    return REAL(__libc_start_main)(main_trampoline, argc, argv, init, fini, rtld_fini, stack_end);
}
