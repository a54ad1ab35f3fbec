"""Futex waits made through glibc's syscall() (Rust's std, C++20 atomic waits, abseil), io_uring
waits, the system calls named from /proc, and every other system call passed through untouched."""
from harness import *  # noqa: F401,F403


def words(p):
    """The addresses futex.c prints: {"word": "0x...", "second": "0x..."}."""
    m = re.search(r"word=(0x[0-9a-f]+) second=(0x[0-9a-f]+)", p.stdout)
    expect(m, f"addresses in {p.stdout!r}")
    return {"word": m.group(1), "second": m.group(2)}


# mode of futex.c: the word it waits on, and its evidence ("" when none can be given)
FUTEX_WAITS = {
    "wait": ("word", "never woken"), "wait_bitset": ("word", "never woken"),
    # priority-inheritance locks are handed on by their owner, not by past wakers; a futex_waitv
    # is woken through any of its words: no evidence from one alone
    "lock_pi": (None, ""), "wait_requeue_pi": ("word", ""), "waitv": ("word", ""),
}


def skip_unless_the_emulator_has(mode):
    """Skips a test of mode when the emulator lacks a system call it makes (futex.c says which)."""
    skip_unless_emulator_runs("futex", mode, why=f"futex {mode} needs system calls the emulator "
                              "may not have")


def check_futex_wait(mode, word, evidence):
    if mode == "waitv":
        skip_unless_the_emulator_has(mode)
    rep, p = report("futex", mode)
    (g,) = group_by_state(rep, "futex_wait")
    expect_eq((g["count"], g["verdict"]), (1, "blocked"), "group")
    expect(f"block_in_{mode}" in functions(g["blocked_at"])[:2], f"blocked_at {g['blocked_at']}")
    expect_eq(functions(g["created_at"])[:2], ["start", "main"], "created_at")
    if word:
        expect_eq(g["object"], words(p)[word], "object: the futex word's address")
    else:
        expect(re.fullmatch(r"0x[0-9a-f]+", g["object"]), f"object {g['object']!r}")
    expect_eq(g.get("evidence", ""), evidence, "evidence")


test_each(FUTEX_WAITS, "thread_blocked_in_futex_{}_is_reported_there", check_futex_wait)


@test
def futex_whose_only_waker_exited_is_orphaned():
    # judged by its wakers alone (reach=0): the scan would find the global word reachable
    rep, _ = report("futex", "waker_exited", options="reach=0")
    (g,) = group_by_state(rep, "futex_wait")
    expect_eq(g["verdict"], "orphaned", "FUTEX_WAKE noted, its thread ended")
    expect(re.fullmatch(rf"last woken by tid \d+, which {EXITED}", g.get("evidence", "")),
           f"evidence {g.get('evidence')!r}")


@test
def futex_wake_op_wakes_its_second_word_too():
    rep, p = report("futex", "wake_op_exited", options="reach=0")
    (g,) = group_by_state(rep, "futex_wait")
    expect_eq(g["object"], words(p)["second"], "the waiter is on the second word")
    expect_eq(g["verdict"], "orphaned", "FUTEX_WAKE_OP noted as its waker")


@test
def futex_wait_with_a_timeout_is_never_orphaned():
    rep, _ = report("futex", "timed_waker_exited")
    (g,) = group_by_state(rep, "futex_wait")
    expect_eq(g["verdict"], "blocked", "its timeout ends it")
    expect(re.fullmatch(rf"last woken by tid \d+, which {EXITED}; a deadline ends the wait",
                        g.get("evidence", "")), f"evidence {g.get('evidence')!r}")


@test
def futex_shared_with_other_processes_or_requeued_gives_no_verdict():
    for mode in ("shared_waker_exited", "requeued"):
        rep, _ = report("futex", mode)
        (g,) = group_by_state(rep, "futex_wait")
        expect_eq((g["verdict"], g.get("evidence", "")), ("blocked", ""),
                  f"{mode}: its wakers may be where no note is made")


@test
def io_uring_enter_waiting_for_completions_is_waiting_on_the_ring():
    skip_unless_the_emulator_has("io_uring")
    rep, _ = report("futex", "io_uring")
    (g,) = group_by_state(rep, "waiting")
    expect(re.fullmatch(r"io_uring fd \d+", g["object"]), f"object {g['object']!r}")
    expect_eq(functions(g["blocked_at"])[0], "block_in_io_uring", "blocked_at")
    expect_eq(functions(g["created_at"])[:2], ["start", "main"], "created_at")


@test
def waits_the_library_does_not_see_are_named_from_the_kernel():
    skip_unless_the_emulator_has("raw")
    rep, _ = report("futex", "raw")
    got = sorted(g["object"] for g in group_by_state(rep, "waiting"))
    expect_eq(got, ["syscall:epoll_pwait2", "syscall:futex_waitv", "syscall:io_uring_enter"],
              "system calls named, not numbered")


@test
def other_system_calls_pass_through_syscall_untouched():
    bare = run("futex", "passthrough", preload=False)
    wrapped = run("futex", "passthrough")
    drop = lambda out: re.sub(r"word=.*\n", "", out)  # noqa: E731
    expect_eq(bare.returncode, 0, f"bare: {bare.stderr}")
    expect_eq((wrapped.returncode, drop(wrapped.stdout)), (0, drop(bare.stdout)),
              "results and errno")
    for line in ["getpid rc=1 errno=-", "close -1 rc=-1 errno=EBADF", "written",
                 "mmap rc=1 errno=-", "no such call rc=-1 errno=ENOSYS",
                 "futex wait on a changed word rc=-1 errno=EAGAIN",
                 "futex timed wait rc=-1 errno=ETIMEDOUT", "futex bad op rc=-1 errno=ENOSYS"]:
        expect(line in bare.stdout.splitlines(), f"{line!r} in\n{bare.stdout}")
    if natively("the errors of futex_waitv and io_uring_enter",
                "qemu 7.2 has neither system call: both fail with ENOSYS, bare and wrapped alike"):
        for line in ["futex_waitv bad vector rc=-1 errno=EFAULT",
                     "io_uring_enter bad ring rc=-1 errno=EBADF"]:
            expect(line in bare.stdout.splitlines(), f"{line!r} in\n{bare.stdout}")


@test
def cxx20_atomic_wait_is_a_futex_wait_with_cxx_frames():
    rep, _ = report("atomic_wait")
    (g,) = group_by_state(rep, "futex_wait")
    names = functions(g["blocked_at"])
    expect("wait_for_flag()" in names, f"the waiting function: {names}")
    expect("std::__atomic_base<int>::wait(int, std::memory_order) const" in names,
           f"libstdc++'s frames demangled as before: {names}")
    created = functions(g["created_at"])
    expect("start_waiter()" in created and created[created.index("start_waiter()") + 1] == "main",
           f"created_at: std::thread's frames, then start_waiter() and main: {created}")
    # libstdc++ waits on a futex not marked private: a notify from another process could end it
    expect_eq((g["verdict"], g.get("evidence", "")), ("blocked", ""), "no verdict on its wakers")
