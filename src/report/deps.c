/* Opening libdw and zlib at the first report. */
#include "report/deps.h"

#include "core/base.h"
#include "core/libs.h"
#include "core/lock.h"

#include <dlfcn.h>

tl_deps tl_deps_fn;

static tl_lock lock;
static bool tried, have_dw, have_z;

/* Binds every name of the list from lib; false when one is missing. */
static bool bind(void *lib, const char *const *names, void **slots, size_t n)
{
    for (size_t i = 0; lib && i < n; i++)
        if (!(slots[i] = dlsym(lib, names[i])))
            return false;
    return lib != NULL;
}

#define TL_DEPS_NAME(fn) #fn,
static const char *const dw_names[] = {TL_DW_FUNCTIONS(TL_DEPS_NAME)};
static const char *const z_names[] = {TL_Z_FUNCTIONS(TL_DEPS_NAME)};
_Static_assert(sizeof(tl_deps) == (TL_LENGTH(dw_names) + TL_LENGTH(z_names)) * sizeof(void *),
               "tl_deps is an array of pointers");

/* A report may run on any thread, and its first one loads: the loading happens under a lock that
   no wrapper takes, with the guard set, so that dlopen's own calls go straight through. */
bool tl_deps_load(void)
{
    tl_lock_acquire(&lock);
    if (!tried) {
        tried = true;
        tl_guard++;
        void **slots = (void **)&tl_deps_fn;
        void *dw = tl_libs_open(TL_LIBDW_SONAME);
        have_dw = bind(dw, dw_names, slots, TL_LENGTH(dw_names));
        if (!have_dw)
            tl_warn("cannot load %s (%s); reports will name no functions", TL_LIBDW_SONAME,
                    dw ? "a function is missing" : dlerror());
        void *z = tl_libs_open(TL_ZLIB_SONAME);
        have_z = bind(z, z_names, slots + TL_LENGTH(dw_names), TL_LENGTH(z_names));
        tl_guard--;
    }
    tl_lock_release(&lock);
    return have_dw;
}

bool tl_deps_zlib(void)
{
    tl_deps_load();
    return have_z;
}
