"""Where threads wait: every interposed wait, with its state, object and stack."""
from harness import *  # noqa: F401,F403


# ---- where threads wait ----

# mode of waits.c: (state, what the object looks like)
WAITS = {
    "cond_wait": ("cond_wait", "address"), "cond_timedwait": ("cond_wait", "address"),
    "mutex_lock": ("mutex_lock", "address"), "mutex_timedlock": ("mutex_lock", "address"),
    "rwlock_read": ("rwlock_read", "address"), "rwlock_write": ("rwlock_write", "address"),
    "sem_wait": ("sem_wait", "address"), "sem_clockwait": ("sem_wait", "address"),
    "barrier_wait": ("barrier_wait", "address"), "join": ("join", "thread"),
    "nanosleep": ("sleep", "none"), "sleep": ("sleep", "none"), "usleep": ("sleep", "none"),
    "clock_nanosleep": ("sleep", "none"),
}


def check_wait(mode, state, kind):
    check_blocked_wait("waits", mode, state, kind, ["start", "main"])


test_each(WAITS, "thread_blocked_in_{}_is_reported_there", check_wait)


# mode of io.c: the state it must show
IO_WAITS = {
    "pipe_read": "pipe_read", "pipe_readv": "pipe_read", "pipe_write": "pipe_write",
    "socket_read": "socket_read", "socket_read_via_read": "socket_read",
    "socket_read_via_recvfrom": "socket_read",
    "socket_write": "socket_write", "accept": "accept", "poll": "poll", "ppoll": "poll",
    "epoll_wait": "poll", "epoll_pwait2": "poll", "select": "poll", "mq_receive": "mq_receive",
    "mq_send": "mq_send",
}


def check_io_wait(mode, state):
    if mode == "epoll_pwait2":
        skip_unless_emulator_runs("io", mode, why="epoll_pwait2 is new in Linux 5.11")
    rep, _ = report("io", mode)
    (g,) = group_by_state(rep, state)
    expect_eq((g["count"], g["verdict"]), (1, "blocked"), "group")
    expect_eq(functions(g["blocked_at"])[0], f"block_in_{mode}", "blocked_at")
    expect_eq(functions(g["created_at"])[:2], ["start", "main"], "created_at")
    expect(20 <= g["blocked_ms_min"] < 60000, f"blocked for {g['blocked_ms_min']} ms")
    if mode == "select":
        expect_eq(g["object"], "", "select names no one descriptor")
    else:
        expect(re.fullmatch(r"fd \d+", g["object"]), f"object {g['object']!r}")


test_each({mode: (state,) for mode, state in IO_WAITS.items()},
          "thread_blocked_in_{}_is_reported_there", check_io_wait)


@test
def message_queue_never_closed_is_a_resource():
    rep, _ = report("io", "mq_receive")
    (res,) = [r for r in rep["resources"] if r["kind"] == "mqueue"]
    expect_eq(res["count"], 1, "count")
    expect_eq(functions(res["created_at"])[:2], ["open_queue", "main"], "created_at")


@test
def pipe_never_closed_is_a_resource_counted_once():
    rep, _ = report("io", "pipe_kept_threaded")
    expect_eq([(r["kind"], r["count"]) for r in rep["resources"]], [("pipe", 1)], "resources")
    expect_eq(functions(rep["resources"][0]["created_at"])[:2], ["make_pipe", "main"], "created_at")


@test
def a_pipe_made_before_any_thread_names_the_function_that_made_it():
    # pipe() is async-signal-safe, so it cannot load libunwind: before the first thread, and
    # without libgcc_s (which C programs lack, and the ASan runtime brings), the creation stack is
    # the caller's frame alone.
    rep, _ = report("io", "pipe_kept")
    (res,) = rep["resources"]
    frames = user_frames(res["created_at"])
    expect_eq((frames[0]["function"], frames[0]["line"]),
              ("make_pipe", source_line("io.c", "exit(91)") - 1), "the calling function, and line")
    expect(len(frames) == 1 or PRELOAD_FIRST, f"one frame without libgcc_s: {functions(frames)}")


@test
def closed_pipes_are_not_resources():
    rep, _ = report("io", "pipe_closed")
    expect_eq(rep["resources"], [], "after close, and dup2 over an end")


@test
def a_copied_pipe_end_keeps_the_pipe_a_resource():
    rep, _ = report("io", "pipe_copy_kept")
    expect_eq([(r["kind"], r["count"]) for r in rep["resources"]], [("pipe", 1)], "resources")


@test
def non_blocking_calls_stay_plain():
    bare = run("io", "nonblocking", preload=False)
    wrapped = run("io", "nonblocking")
    expected = ("pipe2 O_NONBLOCK read=-1 errno=EAGAIN\nF_SETFL O_NONBLOCK read=-1 errno=EAGAIN\n"
                "MSG_DONTWAIT recv=-1 errno=EAGAIN\n")
    expect_eq(bare.stdout, expected, "bare")
    expect_eq(wrapped.stdout, expected, "under the library")


@test
def pipe_read_restarts_after_sa_restart_signal():
    bare = run("io", "restart", preload=False)
    wrapped = run("io", "restart")
    expect_eq(bare.stdout, "read=1 errno=-\n", "bare")
    expect_eq(wrapped.stdout, bare.stdout, "under the library")


@test
def a_condition_never_signalled_says_so():
    rep, _ = report("waits", "cond_wait")
    (g,) = group_by_state(rep, "cond_wait")
    expect_eq(g.get("evidence"), "never signalled", "evidence")
    rep, _ = report("waits", "sem_wait")
    (g,) = group_by_state(rep, "sem_wait")
    expect_eq(g.get("evidence"), "never posted", "evidence")


@test
def a_queue_opened_again_by_name_is_a_resource_of_the_second_open():
    rep, _ = report("io", "mq_reopened")
    (res,) = [r for r in rep["resources"] if r["kind"] == "mqueue"]
    expect_eq((res["count"], functions(res["created_at"])[:2]), (1, ["reopen_queue", "main"]),
              "the queue, held open by mq_open's two-argument form")


@test
def a_timed_wait_whose_signaller_exited_is_only_blocked():
    rep, _ = report("waits", "timed_signaller_exited")
    (g,) = group_by_state(rep, "cond_wait")
    expect_eq(g["verdict"], "blocked", "a deadline ends the wait: never orphaned")
    expect(re.fullmatch(rf"last signalled by tid \d+, which {EXITED}; a deadline ends the wait",
                        g.get("evidence", "")), f"evidence {g.get('evidence')!r}")


@test
def a_condition_whose_signaller_exited_names_it():
    rep, p = report("waits", "signaller_exited")
    (g,) = group_by_state(rep, "cond_wait")
    # the condition variable is a global: a thread that can run may still signal it
    held = r"; still reachable: it is the global `never` \(waits\)"
    m = re.fullmatch(rf"last signalled by tid (\d+), which {EXITED}{held}", g.get("evidence", ""))
    expect(m, f"evidence {g.get('evidence')!r}")
    expect(int(m.group(1)) not in [t["tid"] for t in g["threads"]], "the signaller is not the waiter")
    text = run("waits", "signaller_exited").stderr
    expect(re.search(rf"^  evidence: last signalled by tid \d+, which {EXITED}{held}$", text, re.M),
           text)


CANCELLABLE = {"waits": ["cond_wait", "cond_timedwait", "sem_wait", "sem_clockwait", "join",
                         "nanosleep", "sleep", "usleep", "clock_nanosleep"],
               "io": ["pipe_read", "pipe_write", "socket_read", "socket_write", "accept", "poll",
                      "ppoll", "epoll_wait", "epoll_pwait2", "select", "mq_receive", "mq_send"],
               "io_fortified": ["pipe_read", "socket_read", "socket_read_via_recvfrom", "poll",
                                "ppoll"]}


@test
def cancellation_inside_each_wait_leaves_no_stale_state():
    for prog, modes in CANCELLABLE.items():
        for mode in modes:
            if mode == "epoll_pwait2" and not emulator_runs(prog, f"cancel_{mode}",
                                                            why="epoll_pwait2 is new in Linux 5.11"):
                continue
            rep, _ = report(prog, f"cancel_{mode}")
            cancelled = [g for g in rep["groups"]
                         if "start_then_cancel" in functions(g["created_at"])]
            expect_eq([(g["count"], g["state"]) for g in cancelled], [(1, "waiting")],
                      f"{mode}: the cleanup handler's pause, not the cancelled wait")
            expect_kernel_wait(cancelled[0]["object"], "pause", f"{mode}: the cleanup's pause")
            expect_eq(cancelled[0]["blocked_at"], [], f"{mode}: no stack of a finished wait")


@test
def timed_out_waits_leave_no_stale_state():
    rep, _ = report("waits", "timeout_then_pause")
    (g,) = rep["groups"]
    expect_eq(g["state"], "waiting", "state after two timeouts")
    expect_kernel_wait(g["object"], "pause", "the pause after two timeouts")


@test
def blocked_at_is_the_latest_wait_after_thousands():
    rep, _ = report("waits", "many_then_block")
    (g,) = group_by_state(rep, "cond_wait")
    top = user_frames(g["blocked_at"])[0]
    expect_eq((top["function"], top["line"]),
              ("many_waits_then_block", source_line("waits.c", "final-site")), "blocked_at")


@test
def signals_interrupt_waits_with_eintr_as_without_the_library():
    bare = run("waits", "eintr", preload=False)
    wrapped = run("waits", "eintr")
    expected = "sem_wait rc=-1 errno=EINTR\nnanosleep rc=-1 errno=EINTR remaining=most\n"
    expect_eq(bare.stdout, expected, "bare")
    expect_eq(wrapped.stdout, expected, "under the library")
