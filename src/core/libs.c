/* Libraries loaded for the library's own use: the modules present before and after each dlopen,
   compared. A module the program had loaded already is the program's, and stays so. */
#include "core/libs.h"

#include "core/lock.h"

#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>

#define MODULES 512
#define OWN 32

static tl_lock libs_lock;
static _Atomic uintptr_t own[OWN];
static atomic_uint nown;

typedef struct modules {
    uintptr_t base[MODULES];
    unsigned n;
} modules;

static int note(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    modules *m = arg;
    if (m->n < MODULES)
        m->base[m->n++] = info->dlpi_addr;
    return 0;
}

void *tl_libs_open(const char *name)
{
    static TL_LARGE modules before, after; /* under the lock */
    tl_lock_acquire(&libs_lock);
    before.n = after.n = 0;
    dl_iterate_phdr(note, &before);
    void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    dl_iterate_phdr(note, &after);
    for (unsigned i = 0; lib && i < after.n; i++) {
        bool old = false;
        for (unsigned j = 0; j < before.n && !old; j++)
            old = before.base[j] == after.base[i];
        unsigned n = atomic_load(&nown);
        if (!old && n < OWN) {
            atomic_store(&own[n], after.base[i]);
            atomic_store(&nown, n + 1);
        }
    }
    tl_lock_release(&libs_lock);
    return lib;
}

bool tl_libs_own(uintptr_t base)
{
    unsigned n = atomic_load(&nown);
    for (unsigned i = 0; i < n; i++)
        if (atomic_load(&own[i]) == base)
            return true;
    return false;
}
