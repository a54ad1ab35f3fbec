"""How threads end: joined, detached, unjoined, cancelled, named, untracked."""
from harness import *  # noqa: F401,F403


# ---- how threads end ----

@test
def unjoined_finished_thread_is_unjoined():
    rep, _ = report("lifecycle", "unjoined")
    (g,) = rep["groups"]
    expect_eq((g["state"], g["verdict"], g["count"]), ("exited_unjoined", "unjoined", 1), "group")
    expect_eq(functions(g["created_at"])[:2], ["start_unjoined", "main"], "created_at")
    expect(g["blocked_ms_min"] >= 10, f"time since it finished: {g['blocked_ms_min']}")
    expect_eq(g["threads"][0]["name"], "lifecycle", "an unnamed thread has its process's name")
    expect_eq(rep["threads_leaked"], 1, "threads_leaked")


@test
def detached_threads_are_not_reported():
    rep, _ = report("lifecycle", "detached")
    expect_eq(rep["groups"], [], "groups")
    expect_eq(rep["threads_leaked"], 0, "threads_leaked")


@test
def joined_threads_are_not_reported():
    rep, _ = report("lifecycle", "joined")
    expect_eq(rep["groups"], [], "groups after join, tryjoin, timedjoin and clockjoin")


@test
def pthread_exit_is_seen_as_an_end():
    rep, _ = report("lifecycle", "pthread_exit")
    (g,) = rep["groups"]
    expect_eq((g["state"], g["count"]), ("exited_unjoined", 1), "the unjoined one only")
    expect_eq(functions(g["created_at"])[0], "start_exiting", "created_at")


@test
def cancelled_and_joined_thread_is_forgotten_and_cleanups_run_in_order():
    rep, p = report("lifecycle", "cancel")
    expect_eq(p.stdout.strip(), "cancelled=1 cleanup order: 2 1", "program's cancellation handlers")
    expect_eq(rep["groups"], [], "groups")


@test
def main_leaving_through_pthread_exit_still_reports_at_exit():
    # Both threads main left behind are joinable and never joined; the process ends when the last
    # one does, as it does without the library (whose own thread does not keep it alive).
    # Not yet understood: under qemu 7.2 only, with the exit report on (at_exit=0 runs), qemu
    # itself aborts once the last thread has left (status 127); the bare program runs.
    skip_under_emulation("qemu 7.2 aborts in its own code (cpu_exec: assertion failed: cpu == "
                         "current_cpu) during the exit report of a program whose main left "
                         "through pthread_exit")
    rep, _ = report("lifecycle", "main_exits")
    expect_eq(sorted((g["state"], g["count"], functions(g["created_at"])[0]) for g in rep["groups"]),
              [("exited_unjoined", 1, "main_leaves_first"), ("exited_unjoined", 1, "start_unjoined")],
              f"groups: {summary(rep)}")
    tids = {t["tid"] for g in rep["groups"] for t in g["threads"]}
    expect(rep["pid"] not in tids, "main thread reported")


@test
def a_thread_made_by_a_bare_clone_is_reported_beside_those_the_library_made():
    # The kernel counts one thread more than the library made: /proc/self/task is listed, and the
    # thread the library never saw made is reported, untracked, next to the two it did.
    rep, _ = report("lifecycle", "cloned", options="grace_ms=0")
    tracked = [g for g in rep["groups"] if not g.get("untracked")]
    untracked = [g for g in rep["groups"] if g.get("untracked")]
    expect_eq([(g["state"], g["count"]) for g in tracked], [("cond_wait", 2)], f"made: {summary(rep)}")
    expect_eq(functions(tracked[0]["created_at"])[0], "clone_beside_two", "created_at")
    expect_eq([(g["count"], g["state"], g["created_at"]) for g in untracked], [(1, "waiting", [])],
              f"the cloned thread: {summary(rep)}")
    expect_eq(rep["threads_total"], 4, "threads, main among them")


@test
def a_thread_made_by_clone_alone_is_reported_at_exit():
    # No thread made through pthread_create and no resource: the text exit report is skipped only
    # when the registry can vouch that main is alone, which a clone() makes it refuse.
    p = run("lifecycle", "cloned_alone")
    expect("1 leaked thread in 1 group at exit" in p.stderr, f"the exit report:\n{p.stderr}")
    expect("1 thread: waiting, blocked, on " in p.stderr, f"the thread:\n{p.stderr}")


@test
def thread_started_by_another_library_constructor_is_tracked():
    rep, _ = report("early")
    (g,) = rep["groups"]
    expect_eq((g["count"], g["state"]), (1, "waiting"), f"groups: {summary(rep)}")
    expect(not g.get("untracked"), "seen created, though before our constructor ran")
    expect_eq(functions(g["created_at"])[0], "early_constructor", "created_at")


@test
def thread_names_are_reported():
    rep, _ = report("lifecycle", "named")
    names = sorted(t["name"] for g in rep["groups"] for t in g["threads"])
    expect_eq(names, ["by-prctl", "by-prctl", "db-poller", "main-renamed", "renamed"],
              "names from pthread_setname_np (of the thread itself, or of another), from prctl, "
              "and inherited from the creator")


@test
def undeleted_timer_is_a_resource_served_by_the_helper_thread():
    rep, _ = report("timer_helper", "kept")
    expect_eq(rep["groups"], [], "glibc's helper thread is not an unknown thread")
    (res,) = rep["resources"]
    expect_eq((res["kind"], res["count"]), ("timer", 1), "resource")
    expect_eq(functions(res["created_at"])[:2], ["start_heartbeat", "main"], "created_at")
    expect(res["helper_tid"] > rep["pid"], f"helper tid {res.get('helper_tid')}")


@test
def deleted_timer_is_not_reported():
    rep, _ = report("timer_helper", "deleted")
    expect_eq((rep["groups"], rep["resources"]), ([], []), "groups and resources")


@test
def untracked_thread_is_reported_from_proc():
    rep, _ = report("timer_helper", "stuck")
    untracked = [g for g in rep["groups"] if g.get("untracked")]
    expect_eq(len(untracked), 1, f"untracked groups: {summary(rep)}")
    g = untracked[0]
    expect_eq((g["count"], g["state"], g["verdict"]), (1, "waiting", "blocked"), "the callback's thread")
    expect_kernel_wait(g["object"], "pause", "what it waits in")
    expect_eq(g["created_at"], [], "no creation stack for a thread not seen created")
    expect_eq(g["threads"][0]["creator_tid"], 0, "unknown creator")
