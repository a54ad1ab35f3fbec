"""Reports of threads alive at exit, in every format."""
from harness import *  # noqa: F401,F403


# ---- threads alive at exit ----

@test
def thread_alive_at_exit_is_reported_with_creator():
    rep, _ = report("alive", "3")
    expect_eq(rep["tool"], "threadleak", "tool")
    expect_eq(rep["trigger"], "exit", "trigger")
    expect_eq(rep["threads_leaked"], 3, "threads_leaked")
    expect_eq(rep["threads_total"], 4, "threads_total (3 workers and main)")
    (g,) = rep["groups"]
    expect_eq(g["count"], 3, "group count")
    expect_eq(g["state"], "cond_wait", "state")
    expect_eq(g["verdict"], "blocked", "verdict")
    expect(re.fullmatch(r"0x[0-9a-f]+", g["object"]), f"object: the condition variable: {g['object']}")
    expect(20 <= g["blocked_ms_min"] <= g["blocked_ms_max"] < 60000,
           f"blocked for {g['blocked_ms_min']}..{g['blocked_ms_max']} ms")
    blocked = user_frames(g["blocked_at"])
    expect_eq(blocked[0]["function"], "wait_forever", "blocked_at")
    expect_eq(blocked[0]["line"], source_line("alive.c", "wait-site"), "line of the wait")
    expect_eq(functions(g["created_at"])[:2], ["spawn_blocked", "main"], "created_at")
    expect_eq(len(g["threads"]), 3, "threads listed")
    main_tid = rep["pid"]
    for t in g["threads"]:
        expect_eq(t["creator_tid"], main_tid, "creator_tid")
        expect(t["tid"] != main_tid, "main thread reported")
    top = user_frames(g["created_at"])[0]
    expect_eq(top["line"], source_line("alive.c", "create-site"), "line of the create call")
    expect(top["file"].endswith("alive.c"), f"file {top['file']}")
    expect(top["module"].endswith("/alive"), f"module {top['module']}")
    expect(re.fullmatch(r"0x[0-9a-f]+", top["address"]), f"address {top['address']}")


@test
def text_report_names_function_and_line():
    p = run("alive", "2", options="format=text")
    expect_eq(p.returncode, 0, "exit status")
    line = source_line("alive.c", "create-site")
    expect("threadleak: 2 leaked threads in 1 group at exit" in p.stderr, p.stderr)
    expect(re.search(r"^2 threads: cond_wait, blocked, for \d+ ms( to \d+ ms)?, on 0x[0-9a-f]+$", p.stderr, re.M),
           p.stderr)
    wait_line = source_line("alive.c", "wait-site")
    expect(re.search(rf"blocked at:\n(\s+#\d\s+{INTERCEPTOR}\s.*\n)?\s+#\d\s+wait_forever\s+\S*alive\.c:{wait_line}",
                     p.stderr),
           p.stderr)
    expect(re.search(rf"#\d\s+spawn_blocked\s+\S*alive\.c:{line}\s+\(alive\+0x[0-9a-f]+\)", p.stderr),
           f"the create frame with file:line {line}:\n{p.stderr}")
    expect(re.search(r"#\d\s+main\s+\S*alive\.c:\d+", p.stderr), p.stderr)
    expect("threadleak" not in p.stdout, "report leaked onto stdout")


@test
def full_format_prints_each_thread():
    p = run("alive", "2", options="format=full")
    blocks = re.findall(r"^thread (\d+) \"alive\": cond_wait, blocked", p.stderr, re.M)
    expect_eq(len(blocks), 2, f"thread blocks in\n{p.stderr}")
    expect_eq(p.stderr.count("spawn_blocked"), 2, "a creation stack per thread")


@test
def folded_format_prints_a_line_per_group():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.folded")
        p = run("lifecycle", "unjoined", options=f"format=folded:output={path}")
        expect_eq(p.returncode, 0, "exit status")
        with open(path) as f:
            lines = f.read().splitlines()
    expect_eq(len(lines), 1, "one group")
    expect(re.fullmatch(rf"exited_unjoined;.*;main;start_unjoined(;{INTERCEPTOR})? 1", lines[0]), lines[0])


@test
def folded_format_prints_one_line_per_distinct_stack_with_the_summed_count():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.folded")
        rep, _ = report("two_creators", "2")
        expect_eq(sorted(g["count"] for g in rep["groups"]), [2, 2], "two groups: two creation sites")
        p = run("two_creators", "2", options=f"format=folded:output={path}")
        with open(path) as f:
            lines = f.read().splitlines()
    expect_eq(len(lines), 1, f"one stack of waiting: {lines}")
    expect(re.fullmatch(r"cond_wait;.*;wait_forever(;\S+)? 4", lines[0]), lines[0])


@test
def a_time_range_with_equal_ends_is_one_time():
    p = run("two_creators", "3", "1300")  # waits of 1.3 s and some ms: "1.3 s" each
    heads = re.findall(r"^\d+ threads: .*$", p.stderr, re.M)
    expect_eq(len(heads), 2, p.stderr)
    for head in heads:
        expect(not re.search(r"for (\S+ \S+) to \1,", head), head)
        if natively("one time for waits this close", "the emulator spreads them over 100 ms"):
            expect(re.search(r", for 1\.[34] s, on 0x", head), head)
        else:
            expect(re.search(r", for \d+\.\d s( to \d+\.\d s)?, on 0x", head), head)


@test
def pprof_report_is_a_gzipped_profile_with_a_sample_per_group():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "threads.pb.gz")
        p = run("alive", "3", options=f"format=pprof:output={path}")
        expect_eq(p.returncode, 0, f"status: {p.stderr}")
        prof = read_pprof(path)
    expect_eq(prof["sample_type"], [("threads", "count")], "sample_type")
    (values, labels, stack), = prof["samples"]
    expect_eq(values, [3], "value: the thread count")
    expect_eq(labels, {"state": "cond_wait", "verdict": "blocked", "created_by": "spawn_blocked"},
              "labels")
    expect_eq([f for f in stack if not re.fullmatch(INTERCEPTOR, f)][:1], ["wait_forever"],
              "the stack of the wait, innermost first")


@test
def pprof_report_of_a_thread_with_no_stack_is_whole():
    # An untracked thread has no creation stack, and glibc's timer thread no wait: empty messages,
    # which the encoder must write without touching a NULL buffer (UBSan's memcpy check).
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.pb.gz")
        p = run("timer_helper", "stuck", options=f"format=pprof:output={path}")
        expect_eq(p.returncode, 0, f"exit status; stderr: {p.stderr}")
        prof = read_pprof(path)
    samples = prof["samples"]
    expect(any(labels.get("state") == "waiting" and values == [1] for values, labels, _ in samples),
           f"the untracked thread's sample: {samples}")


def addr2line_inlines(module, address):
    """eu-addr2line -i's frames for one address: [(function, file basename, line)]."""
    p = subprocess.run(["eu-addr2line", "-i", "-f", "-C", "-e", module, address],
                       capture_output=True, text=True, check=True)
    lines = p.stdout.splitlines()
    frames = []
    for function, where in zip(lines[0::2], lines[1::2]):
        path, line = where.split(":")[:2]
        frames.append((function.split(" inlined at ")[0], os.path.basename(path), int(line)))
    return frames


@test
def every_level_of_an_inlined_chain_is_a_frame_with_its_line():
    expect(shutil.which("eu-addr2line"), "eu-addr2line is needed (elfutils; CI installs it)")
    rep, _ = report("inlined")
    (g,) = group_by_state(rep, "mutex_lock")
    frames = user_frames(g["blocked_at"])
    address, module = frames[0]["address"], frames[0]["module"]
    ours = [(f["function"], os.path.basename(f.get("file", "")), f.get("line"))
            for f in frames if f["address"] == address]
    theirs = addr2line_inlines(module, hex(int(address, 16)))
    expect_eq([where[1:] for where in ours], [where[1:] for where in theirs],
              "the files and lines of every level, as eu-addr2line -i")
    for (name, _, _), (their_name, _, _) in zip(ours, theirs):
        expect(their_name.split("(")[0].split("::")[-1] in name, f"{name!r} names {their_name!r}")
    expect_eq([line for _, file, line in ours if file == "inlined.cpp"],
              [source_line("inlined.cpp", f"level-{i}") for i in (3, 2, 1, 0)],
              "our own four levels, innermost first")
    expect(any(name.startswith("app::Worker::step") for name, _, _ in ours),
           f"a member function inlined keeps its class: {ours}")


# ---- names of frames ----

@test
def jit_frames_are_named_from_the_perf_map():
    p = run("jit", options="format=json")
    pid = int(p.stdout.split()[1])
    path = f"/tmp/perf-{pid}.map"
    try:
        (g,) = json.loads(p.stderr[p.stderr.index("{"):])["groups"]
    finally:
        os.unlink(path)
    frames = g["blocked_at"]
    names = [f["function"] for f in frames]
    jit = "LazyCompile:*runScript script.js:3"
    if ARCH == "aarch64":
        # Code without CFI: libunwind's aarch64 fallback takes the link register, which still
        # holds the JIT frame's own return address: the JIT frame comes twice and the unwinding
        # stops there (the frame record the JIT code saved is not followed).
        while names[2:3] == [jit]:
            del names[2]
        expected = ["wait_forever", jit, "run_script"][:max(2, len(names[:3]))]
    else:
        expected = ["wait_forever", jit, "run_script"]
    expect_eq(names[:3], expected, "the JIT frame by the map's last line for its code")
    expect_eq(frames[1]["module"], path, "the map named as the frame's module")
    p = run("jit", "no-map", options="format=json")
    (g,) = json.loads(p.stderr[p.stderr.index("{"):])["groups"]
    expect_eq((g["blocked_at"][1]["function"], g["blocked_at"][1].get("module")), ("??", None),
              "without a map, unknown, and in no module (not the library mapped before it)")


@test
def rust_names_are_demangled_and_cxx_names_as_before():
    rep, _ = report("names")
    (g,) = rep["groups"]
    expect_eq(functions(g["blocked_at"])[:3],
              ["demo::worker::serve", "demo::worker::wait", "app::Pool::run(int)"],
              "v0 Rust, legacy Rust without its hash, C++")
    expect("app::Pool::start()" in functions(g["created_at"]), f"created_at {g['created_at']}")


@test
def reports_say_when_and_what():
    import datetime
    before = datetime.datetime.now(datetime.timezone.utc)
    rep, _ = report("alive", "1", "0", "it's here")
    when = datetime.datetime.fromisoformat(rep["time"])
    expect(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", rep["time"]), rep["time"])
    expect(before - datetime.timedelta(seconds=1) <= when <= datetime.datetime.now(datetime.timezone.utc),
           f"{rep['time']} is when the report was written")
    expect_eq(rep["command"], [os.path.join(SCENARIOS, "alive"), "1", "0", "it's here"], "command")
    text = run("alive", "1", "0", "it's here").stderr.splitlines()
    expect(re.fullmatch(r"time: \S+  command: \S+/alive 1 0 'it'\\''s here'", text[1]), text[1])
