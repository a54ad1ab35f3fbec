"""Fortified builds (-O2 -D_FORTIFY_SOURCE=2, as distributions build): glibc's checked entry points
are waits like their plain twins."""
import subprocess

from harness import *  # noqa: F401,F403

# mode of io.c: the state it must show, and the checked function the fortified build calls for it
FORTIFIED = {
    "pipe_read": ("pipe_read", "__read_chk"), "socket_read": ("socket_read", "__recv_chk"),
    "socket_read_via_read": ("socket_read", "__read_chk"),
    "socket_read_via_recvfrom": ("socket_read", "__recvfrom_chk"),
    "poll": ("poll", "__poll_chk"), "ppoll": ("poll", "__ppoll_chk"),
    # a fortified select is select itself: only FD_SET and its kin become __fdelt_chk checks
    "select": ("poll", "select"),
}


def imports(prog):
    """The dynamic symbols prog takes from its libraries."""
    out = subprocess.run(["nm", "-D", "--undefined-only", os.path.join(SCENARIOS, prog)],
                         capture_output=True, text=True, check=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines()}


@test
def the_fortified_build_calls_glibcs_checked_functions():
    have = imports("io_fortified")
    wanted = {chk for _, chk in FORTIFIED.values()} | {"__fdelt_chk", "__mq_open_2"}
    expect_eq(wanted - have, set(), "checked functions io_fortified does not call")


def check_fortified_wait(mode, state):
    rep, _ = report("io_fortified", mode)
    (g,) = group_by_state(rep, state)
    expect_eq((g["count"], g["verdict"]), (1, "blocked"), "group")
    frames = user_frames(g["blocked_at"])
    names = [f["function"] for f in frames]
    # at -O2 glibc's inline fortify wrapper (read, recv, poll in bits/*.h) is the innermost frame
    expect(f"block_in_{mode}" in names[:2], f"blocked_at {names}")
    if names[0] != f"block_in_{mode}":
        expect("/bits/" in (frames[0].get("file") or ""), f"an inlined libc wrapper: {frames[0]}")
    expect_eq(functions(g["created_at"])[:2], ["start", "main"], "created_at")
    if mode == "select":
        expect_eq(g["object"], "", "select names no one descriptor")
    else:
        expect(re.fullmatch(r"fd \d+", g["object"]), f"object {g['object']!r}")


test_each({mode: (state,) for mode, (state, _) in FORTIFIED.items()},
          "fortified_{}_is_reported_there", check_fortified_wait)


@test
def fortified_pipe_read_names_its_writers():
    rep, _ = report("io_fortified", "pipe_read")
    (g,) = group_by_state(rep, "pipe_read")
    expect_eq(g.get("evidence"), "never written", "evidence, as for a plain read")


@test
def fortified_mq_open_of_an_existing_queue_is_a_resource():
    rep, _ = report("io_fortified", "mq_reopened")
    (res,) = [r for r in rep["resources"] if r["kind"] == "mqueue"]
    expect_eq(res["count"], 1, "count")
    expect("reopen_queue" in functions(res["created_at"])[:2], f"created_at {res['created_at']}")
    (g,) = group_by_state(rep, "mq_receive")
    expect_eq(g.get("evidence"), "never sent", "the queue's receiver")


@test
def fortified_calls_keep_their_results():
    for mode in ("nonblocking", "restart"):
        bare = run("io_fortified", mode, preload=False)
        wrapped = run("io_fortified", mode)
        expect_eq((wrapped.returncode, wrapped.stdout), (bare.returncode, bare.stdout), mode)
