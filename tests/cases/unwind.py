"""Unwinding waits: the stack of every waiting thread, whichever unwinder took it."""
from harness import *  # noqa: F401,F403


@test
def optimised_stacks_without_frame_pointers_unwind_alike_from_every_thread():
    rep, _ = report("unwind")
    (g,) = rep["groups"]  # two stacks for one site would make two groups
    expect_eq((g["count"], g["state"]), (4, "cond_wait"), "group")
    frames = user_frames(g["blocked_at"])
    expect_eq([(f["function"], f["line"]) for f in frames[:5]],
              [("wait_deep", source_line("unwind.c", "wait-site")),
               ("with_vla", source_line("unwind.c", "vla-site")),
               ("with_big_frame", source_line("unwind.c", "big-site")),
               ("level1", source_line("unwind.c", "level1-site")),
               ("deep_thread", source_line("unwind.c", "thread-site"))], "blocked_at")


@test
def creation_stacks_from_either_unwinder_make_one_group():
    """A thread's first creation stacks are unwound a frame at a time, its later ones by
    unw_backtrace: the same site gives the same stack, so 20 threads are one group."""
    rep, _ = report("unwind", "20")
    (g,) = rep["groups"]
    expect_eq((g["count"], g["state"]), (20, "cond_wait"), "group")
    expect_eq(functions(g["created_at"])[0], "main", "created_at")


def cxx_workers(n):
    """watch_cxx with n workers: the maps of the process once they all run, and its exit report."""
    with Running("watch_cxx", str(n), options="format=json:output={dir}/r.json") as w:
        for _ in range(600):
            if len(thread_names(w.pid)) >= n + 2:  # main, the helper and the workers
                break
            time.sleep(0.05)
        with open(f"/proc/{w.pid}/maps") as f:
            maps = f.read()
        _, err, status = w.finish()
        expect_eq(status, 0, f"status (stderr: {err})")
        with open(w.path("r.json")) as f:
            return maps, json.load(f)


def expect_cxx_workers(rep, n):
    (g,) = group_by_state(rep, "cond_wait")
    expect_eq(g["count"], n, "workers")
    (site,) = [f for f in user_frames(g["created_at"]) if f["function"].startswith("start_workers")]
    expect_eq(site["line"], source_line("watch_cxx.cpp", "cxx-site"), "created_at")


@test
def a_cxx_program_starting_a_few_threads_never_loads_libunwind():
    """With libgcc_s in the process, a thread's first creation stacks are libgcc's to unwind."""
    maps, rep = cxx_workers(4)
    expect("libgcc_s" in maps, "libgcc_s is loaded")
    expect("libunwind" not in maps, "libunwind is not loaded before the report")
    expect_cxx_workers(rep, 4)


@test
def a_cxx_program_s_stacks_from_libgcc_and_libunwind_make_one_group():
    maps, rep = cxx_workers(20)
    expect("libunwind" in maps, "libunwind is loaded past the first stacks")
    expect_cxx_workers(rep, 20)
