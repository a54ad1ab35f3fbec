/* Start-up and fork: the one file that knows every layer.

   Start-up runs once, at the first safe point (see core/start.h): the library's constructor, the
   program's start, its first pthread_create, or the public API. It allocates nothing it can avoid
   and loads no library: libunwind is loaded at the first thread, libdw at the first report.
   Other threads that reach a safe point meanwhile wait for it, at most a second; the starting
   thread's own calls into wrappers (its guard is set) go straight through. */
#include "core/altstack.h"
#include "core/futex.h"
#include "core/held.h"
#include "core/helper.h"
#include "core/options.h"
#include "core/proc.h"
#include "core/registry.h"
#include "core/resource.h"
#include "core/start.h"
#include "platform/platform.h"
#include "report/symbols.h"
#include "trigger/deadline.h"
#include "trigger/exit.h"
#include "trigger/fatal.h"
#include "trigger/live.h"
#include "trigger/watch.h"

#include <stdlib.h>

atomic_int tl_phase;

/* fork copies only the calling thread: the library's locks are taken so that no other thread holds
   them at the moment of the copy, and in the child every other thread is forgotten. */
static void fork_prepare(void)
{
    tl_registry_fork_prepare();
    tl_resource_fork_prepare();
    tl_altstack_fork_prepare();
}

static void fork_parent(void)
{
    tl_altstack_fork_parent();
    tl_resource_fork_parent();
    tl_registry_fork_parent();
}

static void fork_child(void)
{
    tl_gettid_forget();
    tl_proc_fork_child();
    tl_registry_fork_child();
    tl_resource_fork_child();
    tl_held_fork_child();
    tl_altstack_fork_child();
    tl_helper_fork_child();
    tl_live_fork_child();
    tl_watch_fork_child();
    tl_symbolizer_fork_child();
}

static void start_up(void)
{
    tl_guard++;
    tl_std_streams_remember();
    tl_options_read(&tl_opt, secure_getenv("THREADLEAK_OPTIONS"));
    tl_stack_init();
    tl_registry_init();
    __register_atfork(fork_prepare, fork_parent, fork_child, __dso_handle);
    tl_guard--;
}

void tl_start(void)
{
    int phase = TL_NOT_STARTED;
    if (TL_LIKELY(atomic_load_explicit(&tl_phase, memory_order_acquire) == TL_STARTED))
        return;
    if (atomic_compare_exchange_strong(&tl_phase, &phase, TL_STARTING)) {
        start_up();
        if (atomic_exchange_explicit(&tl_phase, TL_STARTED, memory_order_acq_rel) ==
            TL_STARTING_WAITED)
            tl_futex_wake(&tl_phase, INT32_MAX);
        return;
    }
    /* Says it waits, unless the start is over; the wait steps every 10 ms, should a wake be
       missed. */
    if (phase == TL_STARTING)
        atomic_compare_exchange_strong(&tl_phase, &phase, TL_STARTING_WAITED);
    tl_futex_wait_while(&tl_phase, TL_STARTING_WAITED, 1000);
}

__attribute__((constructor)) static void constructor(void)
{
    tl_start();
}

void tl_main_starting(void)
{
    tl_start();
    tl_registry_main_starting((uintptr_t)__builtin_frame_address(0));
    tl_exit_register();
    tl_live_start();
    tl_fatal_start();
    tl_deadline_start();
    tl_watch_start();
}
