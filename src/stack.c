/* Stacks: captured with libunwind, stripped of this library's frames, interned so that identical
   stacks are stored once and compare as pointers.

   libunwind is opened with RTLD_LOCAL rather than linked: libunwind.so.8 defines the _Unwind_* ABI
   and backtrace(), and a preloaded dependency would put those ahead of libgcc_s for the whole
   process, sending C++ exceptions and glibc's cancellation unwinding through a different unwinder. */
#include "tl.h"

#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

tl_lock tl_stack_lock;
static tl_stack *interned;
static int (*unw_backtrace_fn)(void **buffer, int size);
static uintptr_t self_lo, self_hi; /* our executable segment */

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t probe = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && probe >= lo && probe < hi) {
            self_lo = lo;
            self_hi = hi;
            return 1;
        }
    }
    return 0;
}

void tl_stack_init(void)
{
    dl_iterate_phdr(find_self, (void *)(uintptr_t)tl_stack_init);
    void *lib = dlopen(TL_LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (lib)
        *(void **)&unw_backtrace_fn = dlsym(lib, "unw_backtrace");
    if (!unw_backtrace_fn)
        tl_warn("cannot load unw_backtrace from %s (%s); reports will have no stacks",
                TL_LIBUNWIND_SONAME, dlerror());
    tl_wait_init(lib);
}

static const tl_stack *intern(const uintptr_t *pc, unsigned depth)
{
    size_t bytes = depth * sizeof *pc;
    tl_stack *s;
    tl_lock_acquire(&tl_stack_lock);
    HASH_FIND(hh, interned, pc, bytes, s);
    if (!s && (s = malloc(sizeof *s + bytes))) {
        s->depth = depth;
        memcpy(s->pc, pc, bytes);
        HASH_ADD(hh, interned, pc, bytes, s);
    }
    tl_lock_release(&tl_stack_lock);
    return s;
}

const tl_stack *tl_stack_intern(const uintptr_t *raw, unsigned n)
{
    uintptr_t pc[TL_MAX_FRAMES];
    unsigned depth = 0;
    /* Our own frames sit on top (the wrapper) and, in threads we started, at the bottom. */
    for (unsigned i = 0; i < n && depth < tl_opt.max_frames; i++)
        if (raw[i] && !tl_stack_own(raw[i]))
            pc[depth++] = raw[i];
    return depth ? intern(pc, depth) : NULL;
}

bool tl_stack_own(uintptr_t pc)
{
    return pc >= self_lo && pc < self_hi;
}

const tl_stack *tl_stack_capture(void)
{
    void *raw[TL_MAX_FRAMES + 16];
    if (!unw_backtrace_fn)
        return NULL;
    int n = unw_backtrace_fn(raw, (int)tl_opt.max_frames + 16);
    return tl_stack_intern((const uintptr_t *)raw, n > 0 ? (unsigned)n : 0);
}
