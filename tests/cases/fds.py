"""Descriptors: what a read or write is, learnt without cost; pipes safe in signal handlers."""
from harness import *  # noqa: F401,F403


def syscall_counts(prog, *args, preload):
    """strace -c's counts of fstat-like calls and fcntl for one run."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "strace")
        argv, env = program([os.path.join(SCENARIOS, prog), *args],
                            preload_env("at_exit=0:signal=none", preload))
        # LeakSanitizer cannot run under ptrace: an ASan build's leak check is left to other tests
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
        p = subprocess.run(["strace", "-f", "-c", "-o", out, *argv], env=env, capture_output=True,
                           text=True, timeout=seconds(120))
        expect_eq(p.returncode, 0, f"{prog} under strace: {p.stderr}")
        counts = {}
        with open(out) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 5 and fields[-1] in ("newfstatat", "fstat", "fcntl", "statx"):
                    counts[fields[-1]] = int(fields[3])
        return counts


def per_file_counts(preload):
    """The calls that 300 files made, read to the end and closed cost, beyond a run with none
    (which has the dynamic loader's own, one more for the preloaded library)."""
    runs = []
    for n in ("0", "300"):
        with tempfile.TemporaryDirectory() as d:
            runs.append(syscall_counts("fds", "files", d, n, preload=preload))
    return {name: runs[1][name] - runs[0].get(name, 0) for name in runs[1]
            if runs[1][name] != runs[0].get(name, 0)}


@test
def reading_files_costs_no_system_call_more_than_without_the_library():
    expect(shutil.which("strace"), "strace is needed (CI installs it)")
    expect_eq(per_file_counts(preload=True), per_file_counts(preload=False),
              "fstat and fcntl calls of 300 files made, read to the end and closed")


@test
def a_read_blocked_on_a_fifo_opened_by_name_is_pipe_read():
    with tempfile.TemporaryDirectory() as d:
        rep, _ = report("fds", "fifo", d)
    (g,) = group_by_state(rep, "pipe_read")
    expect_eq((g["count"], g["verdict"]), (1, "blocked"), "group")
    expect(re.fullmatch(r"fd \d+", g["object"]), f"object {g['object']!r}")
    top = user_frames(g["blocked_at"])[0]
    expect_eq((top["function"], top["line"]), ("read_fifo", source_line("fds.c", "fifo-read")),
              "blocked_at")


@test
def a_signal_handler_may_make_copy_and_close_pipes_inside_those_wrappers():
    # The handler interrupts the thread inside pipe, dup, dup2, dup3, fcntl and close, again and
    # again: a wrapper that took a lock or allocated there would deadlock or corrupt the heap.
    p = run("fds", "handler", "4", options="format=json", timeout=30)
    expect_eq((p.returncode, p.stdout), (0, "ok rounds\n"), f"status and output; stderr: {p.stderr}")
    rep = json.loads(p.stderr)
    expect_eq(rep["resources"], [], "every pipe closed: none left as a resource")
