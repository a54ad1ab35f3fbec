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
