"""Reachability: a heap channel that a returning handler leaves behind is orphaned; one that
anything a running thread can read still holds is only blocked, with where it is held in its
evidence. Under a sanitizer the heap is the sanitizer's and cannot be walked: then every verdict
here must stay blocked and say so."""
from harness import *  # noqa: F401,F403

# The sanitizer's malloc replaces glibc's, and under qemu-user the heap lies where the emulator
# maps it, not in mappings the scan can divide into malloc's blocks: nothing can be proved
# unreachable then, and every verdict must stay blocked, saying why.
FOREIGN_MALLOC = "libasan" in PRELOAD_FIRST or bool(EMULATOR)
UNREACHABLE = ("unreachable: no global, no stack or register of a thread that can run, and "
               "nothing the kernel holds reaches this {}")
LAST_SIGNALLED = rf"last signalled by tid \d+, which {EXITED}"


def senders(mode, *args, options=""):
    """The group of the channel's senders, and the report."""
    rep, _ = report("reach", mode, *args, options=options)
    groups = [g for g in rep["groups"] if "start_senders" in functions(g["created_at"])]
    expect_eq(len(groups), 1, f"one group of senders: {summary(rep)}")
    expect_eq(groups[0]["count"], 3, "senders")
    return groups[0], rep


def expect_unsure(g):
    expect_eq(g["verdict"], "blocked", "verdict, with a heap that cannot be walked")
    why = r"no root seen reaches it, but (malloc is not glibc's|.* lies in memory the scan cannot " \
          r"divide into blocks)"
    if EMULATOR:  # qemu's heap is a mapping read whole as a root: a stale word there holds it
        why += r"|still reachable from memory mapped at 0x[0-9a-f]+"
    expect(re.search(why, g.get("evidence", "")), g.get("evidence"))


def check_orphaned(mode, state="cond_wait", noun="condition variable"):
    g, _ = senders(mode)
    expect_eq(g["state"], state, "state")
    if FOREIGN_MALLOC:
        return expect_unsure(g)
    expect_eq((g["verdict"], g.get("evidence")), ("orphaned", UNREACHABLE.format(noun)),
              "verdict and evidence")


def check_held(mode, held_by):
    """Blocked, its waker gone, held by what held_by (a regex, or a function of the report) says."""
    g, rep = senders(mode)
    if FOREIGN_MALLOC:
        return expect_unsure(g)
    if callable(held_by):
        held_by = held_by(rep)
    expect_eq(g["verdict"], "blocked", "verdict")
    expect(re.fullmatch(rf"{LAST_SIGNALLED}; still reachable from {held_by}", g.get("evidence", "")),
           f"evidence {g.get('evidence')!r} against {held_by!r}")


@test
def heap_channel_left_by_a_returning_handler_is_orphaned():
    check_orphaned("returns")


@test
def heap_channel_left_by_a_handler_thread_that_ended_is_orphaned():
    check_orphaned("thread_returns")


@test
def heap_channel_left_by_a_detached_handler_thread_is_orphaned():
    check_orphaned("detached_returns")


@test
def heap_semaphore_left_by_a_returning_handler_is_orphaned():
    check_orphaned("sem", "sem_wait", "semaphore")


@test
def heap_mutex_whose_live_owner_cannot_reach_it_is_orphaned():
    check_orphaned("mutex", "mutex_lock", "mutex")


@test
def timer_deleted_no_longer_holds_the_channel():
    check_orphaned("timer_deleted")


@test
def epoll_entry_deleted_no_longer_holds_the_channel():
    check_orphaned("epoll_deleted")


@test
def channel_in_a_global_is_blocked_and_names_the_global():
    check_held("global", r"global `kept` \(reach\)")


@test
def channel_in_a_heap_list_from_a_global_is_blocked():
    check_held("list", r"global `kept` \(reach\)")


@test
def channel_held_by_an_interior_pointer_is_blocked():
    check_held("interior", r"global `kept` \(reach\)")


@test
def channel_held_by_a_tagged_pointer_is_blocked():
    check_held("tagged", r"global `kept` \(reach\)")


def sleeper_tid(rep):
    (g,) = group_by_state(rep, "sleep")
    # the frame that holds it, or a register the compiler kept it in as the thread sleeps
    return rf"(the stack|a register) of tid {g['threads'][0]['tid']}"


@test
def channel_held_by_a_sleeping_thread_is_blocked():
    check_held("sleeper", sleeper_tid)


@test
def channel_in_a_timers_sigev_value_is_blocked():
    check_held("timer", r"the sigev_value of timer \d+")


@test
def channel_in_epoll_data_is_blocked():
    check_held("epoll", r"the data of fd \d+ in epoll fd \d+")


@test
def channel_whose_address_waits_in_a_pipe_is_blocked():
    check_held("pipe", r"unread bytes of pipe fd \d+")


def holder(rep):
    (g,) = [g for g in rep["groups"] if "wait_holding" in functions(g["blocked_at"])]
    return rf"the stack of tid {g['threads'][0]['tid']}, which waits on the global `never` \(reach\)"


@test
def channel_held_by_a_thread_whose_own_wait_is_reachable_is_blocked():
    check_held("chain", holder)


def heap_holder(rep):
    (g,) = [g for g in rep["groups"] if "wait_holding" in functions(g["blocked_at"])]
    return (rf"the stack of tid {g['threads'][0]['tid']}, which waits on an object reachable from "
            r"global `other` \(reach\)")


@test
def channel_held_by_a_thread_whose_heap_wait_is_reachable_is_blocked():
    check_held("chain_heap", heap_holder)


@test
def channel_held_only_by_a_stuck_thread_is_orphaned_with_it():
    g, rep = senders("chain_orphaned")
    (holding,) = [h for h in rep["groups"] if "wait_holding" in functions(h["blocked_at"])]
    for group in (g, holding):
        if FOREIGN_MALLOC:
            expect_unsure(group)
        else:
            expect_eq((group["verdict"], group.get("evidence")),
                      ("orphaned", UNREACHABLE.format("condition variable")), "verdict")


@test
def running_thread_keeps_the_scan_from_calling_anything_unreachable():
    g, rep = senders("spinner")
    (running,) = group_by_state(rep, "running")
    expect_eq(g["verdict"], "blocked", "verdict")
    if not FOREIGN_MALLOC:
        expect_eq(g.get("evidence"), f"never signalled; no root seen reaches it, but tid "
                  f"{running['threads'][0]['tid']} runs, and its registers cannot be seen", "evidence")


@test
def scan_off_judges_by_the_wakers_alone():
    g, _ = senders("returns", options="reach=0")
    expect_eq(g["verdict"], "orphaned", "verdict: every waker has exited")
    expect(re.fullmatch(LAST_SIGNALLED, g.get("evidence", "")), g.get("evidence"))


@test
def scan_off_judges_a_semaphore_by_its_posters():
    g, _ = senders("sem_posted", options="reach=0")
    expect_eq((g["state"], g["verdict"]), ("sem_wait", "orphaned"), "state and verdict")
    expect(re.fullmatch(rf"last posted by tid \d+, which {EXITED}", g.get("evidence", "")),
           g.get("evidence"))


# ---- evidence that cannot lie ----

def waiter(mode, function, options=""):
    """The one group blocked in function, and the report and process."""
    rep, p = report("reach", mode, options=options)
    groups = [g for g in rep["groups"] if function in functions(g["blocked_at"])]
    expect_eq(len(groups), 1, f"one group in {function}: {summary(rep)}")
    return groups[0], rep, p


def check_reused(mode, state, evidence):
    """A job slot reused: its old finisher, who ended, is no waker of the new job."""
    for options in ("reach=0", ""):
        g, _, _ = waiter(mode, "job_wait", options)
        expect_eq((g["state"], g["verdict"]), (state, "blocked"), f"state and verdict ({options})")
        expect(re.fullmatch(evidence, g.get("evidence", "")), f"evidence {g.get('evidence')!r}")


@test
def condition_variable_reset_with_its_initializer_forgets_its_old_signaller():
    check_reused("reused_initializer", "cond_wait", r"no signal has reached a waiter since it was "
                 r"initialised \(tid \d+ signalled this address before\)")


@test
def condition_variable_cleared_with_memset_forgets_its_old_signaller():
    check_reused("reused_memset", "cond_wait", r"no signal has reached a waiter since it was "
                 r"initialised \(tid \d+ signalled this address before\)")


@test
def semaphore_destroyed_and_initialised_again_forgets_its_old_poster():
    check_reused("reused_sem", "sem_wait", r"never posted")


@test
def process_shared_mutex_held_by_a_child_process_is_never_orphaned():
    for options in ("reach=0", ""):
        g, _, p = waiter("shared_child", "shared_wait", options)
        child = re.search(r"child (\d+)", p.stdout).group(1)
        expect_eq((g["state"], g["verdict"]), ("mutex_lock", "blocked"), "state and verdict")
        expect_eq(g.get("evidence"), "process-shared: another process may wake it; owner tid "
                  f"{child} is not a thread of this process", "evidence")


@test
def full_wakers_table_recovers_and_never_guesses():
    for options in ("reach=0", ""):
        rep, p = report("reach", "wakers_full", options=options)
        lost, kept = re.search(r"lost 0x([0-9a-f]+) kept 0x([0-9a-f]+)", p.stdout).groups()
        by_object = {int(g["object"], 16): g for g in rep["groups"] if g["state"] == "cond_wait"}
        expect_eq(sorted(by_object), sorted([int(lost, 16), int(kept, 16)]), "the two waits")
        g = by_object[int(lost, 16)]
        expect_eq((g["verdict"], g.get("evidence")), ("blocked", "its wakers are unknown: "
                  "threadleak could not record every one"), "lost")
        g = by_object[int(kept, 16)]
        gone = rf"last signalled by tid \d+, which {EXITED}"
        if options == "reach=0":
            expect_eq(g["verdict"], "orphaned", "kept, judged by its wakers: the table recovered")
            expect(re.fullmatch(gone, g.get("evidence", "")), g.get("evidence"))
        else:
            expect_eq(g["verdict"], "blocked", "kept, a global")
            expect(re.fullmatch(rf"{gone}; still reachable: it is the global `kept_cond` \(reach\)",
                                g.get("evidence", "")), g.get("evidence"))
