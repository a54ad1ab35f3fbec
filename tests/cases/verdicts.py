"""Verdicts: deadlocks, orphans, and what stays only blocked."""
from harness import *  # noqa: F401,F403


# ---- verdicts ----

def verdicts_of(rep):
    return sorted((g["state"], g["verdict"], g["count"]) for g in rep["groups"])


@test
def ab_ba_mutex_deadlock_is_a_deadlock():
    rep, _ = report("verdicts", "abba")
    # created from two lines of main: two groups
    expect_eq(verdicts_of(rep), [("mutex_lock", "deadlock", 1)] * 2, "groups")
    tids = sorted(t["tid"] for g in rep["groups"] for t in g["threads"])
    for g in rep["groups"]:
        expect(re.fullmatch(r"wait-for cycle: tid (\d+) -> tid (\d+) -> tid \1", g["evidence"]),
               g["evidence"])
        expect_eq(sorted(int(t) for t in re.findall(r"\d+", g["evidence"])[:2]), tids, "the cycle's tids")


@test
def three_thread_cycle_and_a_thread_behind_it_are_deadlocked():
    rep, _ = report("verdicts", "cycle3")
    expect_eq(verdicts_of(rep), [("mutex_lock", "deadlock", 1), ("mutex_lock", "deadlock", 3)], "groups")
    (behind,) = [g for g in rep["groups"] if g["count"] == 1]
    expect(re.fullmatch(r"waits for tid \d+, which is deadlocked", behind["evidence"]), behind["evidence"])


@test
def join_cycle_is_a_deadlock():
    rep, _ = report("verdicts", "join_cycle")
    expect_eq(verdicts_of(rep), [("join", "deadlock", 3)], "groups")


@test
def mutex_whose_owner_exited_is_orphaned_and_so_is_its_joiner():
    rep, _ = report("verdicts", "owner_exited")
    expect_eq(verdicts_of(rep), [("join", "orphaned", 1), ("mutex_lock", "orphaned", 1)], "groups")
    (lock,) = group_by_state(rep, "mutex_lock")
    expect(re.fullmatch(rf"owner tid \d+ {EXITED}", lock["evidence"]), lock["evidence"])
    expect("ago" in lock["evidence"], "we saw the owner end: when is known")


@test
def cond_whose_only_signaller_exited_is_orphaned_by_its_wakers_alone():
    rep, _ = report("waits", "signaller_exited", options="reach=0")
    (g,) = group_by_state(rep, "cond_wait")
    expect_eq(g["verdict"], "orphaned", "verdict, the scan off")
    # with the scan, the global condition variable is still reachable: only blocked
    rep, _ = report("waits", "signaller_exited")
    (g,) = group_by_state(rep, "cond_wait")
    expect_eq(g["verdict"], "blocked", "verdict, a global")


@test
def pipe_whose_only_writer_exited_is_orphaned():
    rep, _ = report("verdicts", "pipe_writer_exited")
    (g,) = group_by_state(rep, "pipe_read")
    expect_eq(g["verdict"], "orphaned", "verdict")
    expect(re.fullmatch(rf"last written by tid \d+, which {EXITED}", g["evidence"]), g["evidence"])


@test
def queue_with_no_sender_says_so_but_stays_blocked():
    rep, _ = report("verdicts", "mq_no_sender")
    (g,) = group_by_state(rep, "mq_receive")
    expect_eq((g["verdict"], g.get("evidence")), ("blocked", "never sent"), "verdict and evidence")


@test
def healthy_pool_server_and_sleeper_are_only_blocked():
    rep, _ = report("verdicts", "healthy")
    got = {(g["state"], g["verdict"]) for g in rep["groups"]}
    expect_eq(got, {("cond_wait", "blocked"), ("accept", "blocked"), ("sleep", "blocked")},
              f"no deadlock, no orphan: {verdicts_of(rep)}")
    evidence = sorted(g.get("evidence", "") for g in group_by_state(rep, "cond_wait"))
    expect(any(re.fullmatch(r"last signalled by tid \d+", e) for e in evidence), evidence)
    expect("never signalled" in evidence, evidence)


@test
def pileup_is_flagged_at_the_threshold():
    rep, _ = report("verdicts", "pileup", "5", options="pileup=5")
    (g,) = rep["groups"]
    expect_eq((g["count"], g.get("pileup")), (5, True), "at the threshold")
    rep, _ = report("verdicts", "pileup", "4", options="pileup=5")
    (g,) = rep["groups"]
    expect_eq((g["count"], g.get("pileup")), (4, None), "below it")
    p = run("verdicts", "pileup", "5", options="pileup=5")
    expect("pile-up: 5 threads wait at this one site" in p.stderr, p.stderr)
