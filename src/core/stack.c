/* Stacks: captured, stripped of this library's frames, interned.

   The intern table is lock-free: a fixed array of buckets, each a list of stacks pushed with a CAS,
   entries from the arena, never freed. So capturing a stack takes no lock and allocates nothing
   with malloc, and is safe in a signal handler (pipe and dup, which record the stack that made a
   pipe, are async-signal-safe) and in a fork child.

   libunwind is opened with RTLD_LOCAL rather than linked: libunwind.so.8 defines the _Unwind_* ABI
   and backtrace(), and a preloaded dependency would put those ahead of libgcc_s for the whole
   process, sending C++ exceptions and glibc's cancellation unwinding through a different unwinder.
   It is opened at the first safe point that needs it (a thread's creation, a timer's, a report),
   not at start-up, which it would make ~0.6 ms slower in every process. A stack captured before,
   in a function that must stay async-signal-safe and so cannot load it (a pipe made by a program
   that has no thread yet), is unwound by libgcc's _Unwind_Backtrace when the process has libgcc_s
   (every C++ program): ten times slower, and with glibc 2.35 or later lock-free and
   async-signal-safe (_dl_find_object). Without either, it is the frame that called the wrapper. */
#include "core/stack.h"

#include "core/arena.h"
#include "core/base.h"
#include "core/futex.h"
#include "core/libs.h"
#include "core/options.h"

#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>
#include <string.h>
#include <unwind.h>

#define BUCKETS 16384u /* a power of two */

static TL_LARGE _Atomic(tl_stack *) buckets[BUCKETS];
static uintptr_t self_lo, self_hi; /* our executable segment */
static tl_libunwind libunwind;
/* libgcc's unwinder, when the process has it: looked up, not linked, so that we never load it. */
static _Unwind_Reason_Code (*gcc_backtrace)(_Unwind_Trace_Fn, void *);
static _Unwind_Ptr (*gcc_get_ip)(struct _Unwind_Context *);
enum { UNW_NOT_LOADED, UNW_LOADING, UNW_READY, UNW_FAILED };
static atomic_int libunwind_state;

static bool have_libgcc;

/* Finds our executable segment, and whether libgcc_s is loaded (looking its functions up when it
   is not would cost the allocation of an error message). */
static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t probe = (uintptr_t)data;
    if (strstr(info->dlpi_name, "/libgcc_s.so"))
        have_libgcc = true;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && probe >= lo && probe < hi) {
            self_lo = lo;
            self_hi = hi;
        }
    }
    return 0;
}

void tl_stack_init(void)
{
    dl_iterate_phdr(find_self, (void *)(uintptr_t)tl_stack_init);
    if (!have_libgcc)
        return;
    *(void **)&gcc_get_ip = dlsym(RTLD_DEFAULT, "_Unwind_GetIP");
    *(void **)&gcc_backtrace = gcc_get_ip ? dlsym(RTLD_DEFAULT, "_Unwind_Backtrace") : NULL;
}

#define STR(x) #x
#define XSTR(x) STR(x)
#define UNW_NAME(prefix, fn) prefix XSTR(UNW_TARGET) "_" fn

/* Another thread loads it (the helper, at a deadline, while the program starts its first thread):
   a stack taken meanwhile would be one frame, and fall into a group of its own. */
static const tl_libunwind *wait_loaded(void)
{
    tl_futex_wait_while(&libunwind_state, UNW_LOADING, 250);
    return tl_libunwind_loaded();
}

const tl_libunwind *tl_libunwind_load(void)
{
    int state = UNW_NOT_LOADED;
    if (TL_LIKELY(atomic_load_explicit(&libunwind_state, memory_order_acquire) == UNW_READY))
        return &libunwind;
    if (!atomic_compare_exchange_strong(&libunwind_state, &state, UNW_LOADING))
        return state == UNW_LOADING ? wait_loaded() : tl_libunwind_loaded();
    tl_guard++;
    void *lib = tl_libs_open(TL_LIBUNWIND_SONAME);
    if (lib) {
        *(void **)&libunwind.backtrace = dlsym(lib, "unw_backtrace");
        *(void **)&libunwind.init_local = dlsym(lib, UNW_NAME("_UL", "init_local"));
        *(void **)&libunwind.init_local2 = dlsym(lib, UNW_NAME("_UL", "init_local2"));
        *(void **)&libunwind.step = dlsym(lib, UNW_NAME("_UL", "step"));
        *(void **)&libunwind.get_reg = dlsym(lib, UNW_NAME("_UL", "get_reg"));
    }
    bool ok = libunwind.backtrace && libunwind.init_local && libunwind.step && libunwind.get_reg;
    if (!ok)
        tl_warn("cannot load libunwind (%s: %s); stacks will show only their first frame",
                TL_LIBUNWIND_SONAME, lib ? "functions missing" : dlerror());
    tl_guard--;
    atomic_store_explicit(&libunwind_state, ok ? UNW_READY : UNW_FAILED, memory_order_release);
    tl_futex_wake(&libunwind_state, INT32_MAX);
    return tl_libunwind_loaded();
}

const tl_libunwind *tl_libunwind_loaded(void)
{
    return atomic_load_explicit(&libunwind_state, memory_order_acquire) == UNW_READY ? &libunwind
                                                                                     : NULL;
}

static uint64_t hash_of(const uintptr_t *pc, unsigned depth)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a over the words */
    for (unsigned i = 0; i < depth; i++)
        h = (h ^ pc[i]) * 1099511628211u;
    return h ^ depth;
}

static const tl_stack *find(tl_stack *s, uint64_t hash, const uintptr_t *pc, unsigned depth)
{
    for (; s; s = s->next)
        if (s->hash == hash && s->depth == depth && memcmp(s->pc, pc, depth * sizeof *pc) == 0)
            return s;
    return NULL;
}

static const tl_stack *intern(const uintptr_t *pc, unsigned depth)
{
    uint64_t hash = hash_of(pc, depth);
    _Atomic(tl_stack *) *bucket = &buckets[hash & (BUCKETS - 1)];
    tl_stack *head = atomic_load_explicit(bucket, memory_order_acquire);
    const tl_stack *known = find(head, hash, pc, depth);
    if (known)
        return known;
    tl_stack *s = tl_arena_alloc(sizeof *s + depth * sizeof *pc);
    if (!s)
        return NULL;
    s->hash = hash;
    s->depth = depth;
    memcpy(s->pc, pc, depth * sizeof *pc);
    for (;;) {
        s->next = head;
        if (atomic_compare_exchange_weak_explicit(bucket, &head, s, memory_order_release,
                                                  memory_order_acquire))
            return s;
        /* Another thread pushed meanwhile, perhaps this very stack: ours is left unused. */
        if ((known = find(head, hash, pc, depth)))
            return known;
    }
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

typedef struct gcc_walk {
    uintptr_t *pc;
    unsigned n, max;
} gcc_walk;

static _Unwind_Reason_Code gcc_frame(struct _Unwind_Context *ctx, void *arg)
{
    gcc_walk *walk = arg;
    if (walk->n == walk->max)
        return _URC_END_OF_STACK;
    walk->pc[walk->n++] = (uintptr_t)gcc_get_ip(ctx);
    return _URC_NO_REASON;
}

const tl_stack *tl_stack_capture(uintptr_t caller)
{
    uintptr_t raw[TL_MAX_FRAMES + 16];
    unsigned max = tl_opt.max_frames + 16;
    const tl_libunwind *unw = tl_libunwind_loaded();
    if (unw) {
        int n = unw->backtrace((void **)raw, (int)max);
        return tl_stack_intern(raw, n > 0 ? (unsigned)n : 0);
    }
    if (!gcc_backtrace)
        return tl_stack_intern(&caller, 1);
    gcc_walk walk = {raw, 0, max};
    gcc_backtrace(gcc_frame, &walk);
    return tl_stack_intern(raw, walk.n);
}
