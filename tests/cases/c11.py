"""C11 threads (<threads.h>): glibc runs them without its exported pthread functions, and they are
tracked, recorded and judged as their pthread twins are."""
from harness import *  # noqa: F401,F403

# mode of c11.c: (state, what the object looks like)
C11_WAITS = {
    "cnd_wait": ("cond_wait", "address"), "cnd_timedwait": ("cond_wait", "address"),
    "mtx_lock": ("mutex_lock", "address"), "mtx_timedlock": ("mutex_lock", "address"),
    "thrd_join": ("join", "thread"), "thrd_sleep": ("sleep", "none"),
}


def check_c11_wait(mode, state, kind):
    check_blocked_wait("c11", mode, state, kind, ["start_c11", "main"])  # thrd_create's caller


test_each(C11_WAITS, "c11_thread_blocked_in_{}_is_reported_there", check_c11_wait)


@test
def c11_condition_never_signalled_says_so():
    rep, _ = report("c11", "cnd_wait")
    (g,) = group_by_state(rep, "cond_wait")
    expect_eq(g.get("evidence"), "never signalled", "evidence")


@test
def c11_condition_whose_signaller_exited_is_orphaned():
    # judged by its wakers alone: the scan would find the global condition variable reachable
    rep, _ = report("c11", "signaller_exited", options="reach=0")
    (g,) = group_by_state(rep, "cond_wait")
    expect_eq(g["verdict"], "orphaned", "verdict: cnd_signal noted, its thread ended")
    expect(re.fullmatch(rf"last signalled by tid \d+, which {EXITED}", g.get("evidence", "")),
           f"evidence {g.get('evidence')!r}")


@test
def c11_timed_condition_whose_signaller_exited_is_only_blocked():
    rep, _ = report("c11", "timed_signaller_exited")
    (g,) = group_by_state(rep, "cond_wait")
    expect_eq(g["verdict"], "blocked", "cnd_timedwait's deadline ends it")
    expect(g.get("evidence", "").endswith("; a deadline ends the wait"), g.get("evidence"))


@test
def c11_mutex_whose_owner_exited_is_orphaned_and_so_is_its_joiner():
    rep, _ = report("c11", "owner_exited")
    got = sorted((g["state"], g["verdict"], g["count"]) for g in rep["groups"])
    expect_eq(got, [("join", "orphaned", 1), ("mutex_lock", "orphaned", 1)], "groups")
    (lock,) = group_by_state(rep, "mutex_lock")
    expect(re.fullmatch(rf"owner tid \d+ {EXITED}", lock["evidence"]), lock["evidence"])
    (join,) = group_by_state(rep, "join")
    expect(re.fullmatch(r"waits for tid \d+, which is orphaned", join["evidence"]),
           join["evidence"])


@test
def c11_ab_ba_deadlock_is_a_deadlock():
    rep, _ = report("c11", "abba")
    expect_eq(sorted((g["state"], g["verdict"], g["count"]) for g in rep["groups"]),
              [("mutex_lock", "deadlock", 1)] * 2, "groups")
    for g in rep["groups"]:
        expect(re.fullmatch(r"wait-for cycle: tid (\d+) -> tid (\d+) -> tid \1", g["evidence"]),
               g["evidence"])


@test
def c11_results_pass_through_and_only_the_unjoined_thread_is_reported():
    bare = run("c11", "lifecycle", preload=False)
    rep, wrapped = report("c11", "lifecycle")
    expect_eq(bare.stdout, "join rc=0 result=42\nthrd_exit join rc=0 result=-3\ndetach rc=0\n",
              "bare")
    expect_eq(wrapped.stdout, bare.stdout, "under the library")
    (g,) = rep["groups"]
    expect_eq((g["state"], g["verdict"], g["count"]), ("exited_unjoined", "unjoined", 1), "group")
    expect_eq(functions(g["created_at"])[:2], ["start_c11", "main"], "created_at")
    expect_eq(rep["threads_total"], 2, "main and the unjoined one: joined and detached are gone")
