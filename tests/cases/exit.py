"""The exit status, the options and where reports go."""
from harness import *  # noqa: F401,F403


# ---- exit status ----

@test
def clean_program_keeps_its_status_with_exitcode():
    rep, _ = report("lifecycle", "joined", options="exitcode=66", status=0)
    expect_eq(rep["threads_leaked"], 0, "threads_leaked")
    p = run("lifecycle", "joined", options="exitcode=66")
    expect_eq((p.returncode, p.stderr), (0, ""), "a clean text run says nothing and keeps 0")


@test
def leaky_program_exits_with_exitcode():
    p = run("alive", "1", "0", options="exitcode=66")
    expect_eq(p.returncode, 66, "exit status with a leak")
    p = run("alive", "1", "3", options="exitcode=0")
    expect_eq(p.returncode, 3, "exitcode=0 leaves the program's status alone")


@test
def running_threads_and_the_timer_helper_do_not_change_exit_status():
    rep, _ = report("verdicts", "spinner", options="exitcode=66")
    expect_eq([(g["state"], g["verdict"], g["count"]) for g in rep["groups"]],
              [("running", "running", 1)], "a thread computing at exit")
    expect_eq(rep["threads_leaked"], 0, "threads_leaked")
    expect_eq(run("verdicts", "spinner", options="exitcode=66").returncode, 0, "status with a runner")
    p = run("timer_helper", "kept", options="exitcode=66")
    expect_eq(p.returncode, 0, f"status with glibc's timer thread and an undeleted timer: {p.stderr}")
    # one timer from its site is most often there by design: the json lists it, the text does not
    expect_eq(p.stderr, "", "a lone timer (glibc's thread serving it) prints nothing at exit")


# ---- options and output ----

@test
def bad_options_warn_and_keep_defaults():
    p = run("alive", "1", options="format=xml:bogus=1:max_frames=0:exitcode=300:grace_ms=-5:nonsense")
    warnings = [l for l in p.stderr.splitlines() if l.startswith("threadleak: THREADLEAK_OPTIONS")]
    expect_eq(len(warnings), 6, f"one warning per bad pair:\n{p.stderr}")
    expect(any("bad value 'xml' for format" in w for w in warnings), warnings)
    expect(any("unknown option 'bogus'" in w for w in warnings), warnings)
    expect(any("'nonsense' is not key=value" in w for w in warnings), warnings)
    expect_eq(p.returncode, 0, "status unchanged: exitcode kept its default 0")
    expect("1 thread: cond_wait, blocked" in p.stderr, "the report still comes, in text")


@test
def unwritable_output_falls_back_to_stderr():
    p = run("alive", "1", options="output=/nonexistent-dir/report.txt")
    expect_eq(p.returncode, 0, "status")
    expect(re.search(r"^threadleak: cannot create /nonexistent-dir/report.txt \(No such file",
                     p.stderr, re.M), p.stderr)
    expect("1 thread: cond_wait, blocked" in p.stderr, "report on stderr instead")


@test
def output_file_is_new_private_and_never_truncates():
    with tempfile.TemporaryDirectory() as d:
        pattern = os.path.join(d, "tl.%p.%n.json")
        p = run("alive", "1", options=f"format=json:output={pattern}")
        (name,) = os.listdir(d)
        expect(re.fullmatch(r"tl\.\d+\.1\.json", name), name)
        mode = stat.S_IMODE(os.stat(os.path.join(d, name)).st_mode)
        expect_eq(oct(mode), oct(0o600), "file mode")
        # an existing file at the path is left alone, and so is a symbolic link's target
        victim = os.path.join(d, "victim")
        with open(victim, "w") as f:
            f.write("keep me")
        link = os.path.join(d, "link.json")
        os.symlink(victim, link)
        p = run("alive", "1", options=f"format=json:output={link}")
        with open(victim) as f:
            expect_eq(f.read(), "keep me", "symlink target untouched")
        expect("cannot create" in p.stderr and '"tool": "threadleak"' in p.stderr,
               f"falls back to stderr:\n{p.stderr}")


@test
def output_may_be_a_device_or_stderr_but_never_a_link_to_a_file():
    for device in ("/dev/null", "/dev/stderr"):
        p = run("alive", "1", options=f"output={device}")
        expect("cannot create" not in p.stderr, f"{device}: {p.stderr}")
        expect_eq("1 thread: cond_wait, blocked" in p.stderr, device == "/dev/stderr", f"{device}: {p.stderr}")
    with tempfile.TemporaryDirectory() as d:
        victim, link = os.path.join(d, "victim"), os.path.join(d, "link")
        with open(victim, "w") as f:
            f.write("keep me")
        for target in (victim, link):
            if target == link:
                os.symlink(victim, link)
            p = run("alive", "1", options=f"output={target}")
            expect(re.search(rf"^threadleak: cannot create {re.escape(target)} \(File exists\)", p.stderr, re.M),
                   p.stderr)
            with open(victim) as f:
                expect_eq(f.read(), "keep me", "the file, untouched")


@test
def max_frames_limits_stacks():
    full, _ = report("alive", "1")
    cut, _ = report("alive", "1", options="max_frames=2")
    full_stack = [f["function"] for f in full["groups"][0]["created_at"]]
    cut_stack = [f["function"] for f in cut["groups"][0]["created_at"]]
    expect(len(full_stack) > 2, f"a deeper stack by default: {full_stack}")
    expect_eq(cut_stack, full_stack[:2], "the innermost two frames kept")


@test
def at_exit_0_disables_the_report():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.json")
        p = run("alive", "1", options=f"at_exit=0:format=json:output={path}:exitcode=66")
        expect_eq(p.returncode, 0, "status")
        expect(not os.path.exists(path), "no report written")
        expect_eq(p.stderr, "", "nothing said")


@test
def grace_lets_finishing_threads_end():
    # A detached thread sleeps 500 ms more after main returns: the grace period lets it end, and
    # ends as soon as it has (no fixed wait); without one it is judged while still asleep.
    rep, _ = report("lifecycle", "finishing", options="grace_ms=5000")
    expect_eq((rep["groups"], rep["threads_leaked"]), ([], 0), "with a grace period")
    rep, _ = report("lifecycle", "finishing", options="grace_ms=0")
    expect_eq([(g["state"], g["count"]) for g in rep["groups"]], [("sleep", 1)], "without one")
    expect_eq(functions(rep["groups"][0]["blocked_at"])[0], "finish_later", "blocked_at")


@test
def grace_does_not_wait_for_a_thread_a_suppression_hides():
    # A runtime's thread that lives on past the exit (node's inspector) and that a rule hides by
    # where it was made is no reason to wait: only threads the report would show get grace_ms.
    with tempfile.TemporaryDirectory() as d:
        rules = os.path.join(d, "rules")
        with open(rules, "w") as f:
            f.write("created:start_lingering\n")
        began = time.monotonic()
        rep, _ = report("lifecycle", "lingering", options=f"grace_ms=60000:suppressions={rules}")
        took = time.monotonic() - began
    expect_eq((rep["groups"], rep["threads_leaked"]), ([], 0), "the hidden thread")
    expect(took < 30, f"the exit waited {took:.1f} s for a thread no report shows")


def run_with_tmpdir(tmpdir, *args, options=""):
    env = preload_env(options)
    env["TMPDIR"] = tmpdir
    return run_program([os.path.join(SCENARIOS, "stderr_moved"), *args], env=env,
                       capture_output=True, text=True, timeout=60)


def moved_report(tmpdir, pid, ext):
    path = os.path.join(tmpdir, f"threadleak.{pid}.1.{ext}")
    expect(os.path.exists(path), f"the report in $TMPDIR: {os.listdir(tmpdir)}")
    expect_eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, "its mode")
    with open(path) as f:
        return f.read()


@test
def a_report_never_goes_into_the_file_that_took_stderrs_number():
    with tempfile.TemporaryDirectory() as d, tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(d, "data.csv")
        p = start_program([os.path.join(SCENARIOS, "stderr_moved"), "data", data],
                          env={**preload_env(), "TMPDIR": tmp}, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
        out, err = p.communicate(timeout=seconds(60))
        expect_eq(p.returncode, 0, f"exit status; stderr {err}")
        with open(data) as f:
            expect_eq(f.read(), "a,b\n1,2\n", "the program's data file, untouched")
        text = moved_report(tmp, p.pid, "txt")
    expect("1 leaked thread" in text and re.search(r"#\d+\s+leak\s", text), text)


@test
def a_report_of_a_program_that_closed_stderr_is_kept():
    with tempfile.TemporaryDirectory() as tmp:
        p = start_program([os.path.join(SCENARIOS, "stderr_moved"), "closed"],
                          env={**preload_env("format=json"), "TMPDIR": tmp},
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = p.communicate(timeout=seconds(60))
        expect_eq((p.returncode, err), (0, ""), "status, and nothing on the closed stderr")
        rep = json.loads(moved_report(tmp, p.pid, "json"))
    expect_eq([(g["count"], functions(g["created_at"])[0]) for g in rep["groups"]], [(1, "leak")],
              "the leaked thread")
