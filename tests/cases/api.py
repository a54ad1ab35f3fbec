"""The test API: snapshots, verify_none, suppressions, dumps."""
from harness import *  # noqa: F401,F403


# ---- the test API ----

@test
def verify_none_of_a_clean_test_returns_0_at_once():
    p = api("clean")
    m = re.fullmatch(r"rc=0 ms=([\d.]+)\n", p.stdout)
    expect(m, p.stdout)
    expect(float(m.group(1)) < seconds(0.5) * 1000, f"a clean check took {m.group(1)} ms")
    expect_eq(p.stderr, "", "no report")


@test
def verify_none_reports_a_leaked_thread_with_its_function_and_creator():
    p = api("leak")
    expect(p.stdout.startswith("rc=1 "), p.stdout)
    expect("threadleak: 1 leaked thread in 1 group on request" in p.stderr, p.stderr)
    expect(re.search(r"blocked at:\n(.*\n)?\s+#\d\s+wait_alpha\s", p.stderr), p.stderr)
    expect(re.search(rf"created by tid \d+ at:\n(\s+#0\s+{INTERCEPTOR}\s.*\n)?\s+#\d\s+spawn\s.*\n"
                     r"\s+#\d\s+make_alpha\s", p.stderr), p.stderr)


@test
def verify_none_works_the_same_when_also_preloaded():
    # one copy of the library: the preloaded object's soname satisfies the executable's NEEDED
    p = run("api", "leak", options="at_exit=0")
    expect_eq(p.returncode, 0, p.stderr)
    expect(p.stdout.startswith("rc=1 "), p.stdout)
    expect_eq(p.stderr.count("threadleak: 1 leaked thread in 1 group on request"), 1, p.stderr)
    expect(re.search(r"#\d\s+make_alpha\s", p.stderr), p.stderr)
    clean = run("api", "clean", options="at_exit=0")
    expect(clean.stdout.startswith("rc=0 "), clean.stdout)


@test
def a_thread_ending_within_the_timeout_is_not_a_leak():
    expect_eq(api("late").stdout, "rc=0\n", "a thread that ends 200 ms later")


@test
def a_leaked_thread_still_running_at_the_deadline_is_reported_where_it_then_waits():
    p = api("starting")  # checked once, at once: one thread is busy for 50 ms first, one for ever
    expect_eq(p.stdout, "rc=2\n", p.stderr)
    expect("threadleak: 2 leaked threads in 2 groups on request" in p.stderr, p.stderr)
    expect(re.search(r'^1 thread: running\n  threads: \d+ "spin"\n', p.stderr, re.M), p.stderr)
    expect(re.search(r"^1 thread: cond_wait, .*\n(.*\n)*?  blocked at:\n(.*\n)*?\s+#\d\s+start_slowly\s",
                     p.stderr, re.M), p.stderr)


@test
def a_baseline_hides_the_threads_that_were_there_before():
    p = api("baseline")
    expect_eq(p.stdout, "with baseline rc=0\none more rc=1\nwithout baseline rc=3\n", "results")


@test
def each_suppression_kind_hides_exactly_what_it_names():
    p = api("suppress")
    expect_eq(p.stdout, "none rc=3\nblocked rc=2\ncreated rc=2\nname rc=2\nall rc=0\n", "results")
    reports = p.stderr.split("threadleak: ")[1:]
    names = [sorted(re.findall(r'"(alpha|beta|gamma)"', r)) for r in reports]
    expect_eq(names, [["alpha", "beta", "gamma"], ["beta", "gamma"], ["alpha", "gamma"],
                      ["alpha", "beta"]], "who each report names")


@test
def a_malformed_suppression_is_reported_with_its_line():
    p = api("malformed")
    expect_eq(p.stdout, "rc=1\n", "the good rule still applies")
    expect(re.search(r"^threadleak: threadleak_opts.suppressions:2: 'bogus rule' is not", p.stderr, re.M),
           p.stderr)
    expect(re.search(r"^threadleak: threadleak_opts.suppressions:3: 'blocked:' is not", p.stderr, re.M),
           p.stderr)


@test
def suppressions_file_applies_at_exit():
    with tempfile.TemporaryDirectory() as d:
        rules = os.path.join(d, "rules")
        with open(rules, "w") as f:
            f.write("# the pool is known\nblocked:wait_for*\n")
        rep, _ = report("alive", "2", options=f"suppressions={rules}")
        expect_eq((rep["groups"], rep["threads_leaked"]), ([], 0), "suppressed")
        p = run("alive", "1", options=f"suppressions={d}/missing")
        expect(re.search(r"^threadleak: cannot read suppressions file .*/missing", p.stderr, re.M), p.stderr)
        expect("1 thread: cond_wait" in p.stderr, "nothing suppressed then")


@test
def two_threads_verifying_at_once_both_get_the_right_answer():
    expect_eq(api("concurrent").stdout, "a=1 b=1\n", "both see the one leaked thread, not each other")


@test
def verify_none_in_a_fork_child_sees_the_child_only():
    skip_unless_emulator_runs("forking", why=FORK_THEN_THREAD)
    expect_eq(api("forked").stdout, "child clean=0 leaked=1\n", "child")


@test
def dump_writes_the_format_asked_to_the_file_given():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "dump.json")
        p = api("dump", path)
        expect_eq(p.stdout, "rc=0 bad format rc=-1\n", "results")
        expect("threadleak_opts.format: 'xml'" in p.stderr, p.stderr)
        with open(path) as f:
            rep = json.load(f)
    expect_eq(rep["trigger"], "api", "trigger")
    (g,) = rep["groups"]
    expect_eq((g["state"], functions(g["blocked_at"])[0]), ("cond_wait", "wait_alpha"), "group")


@test
def default_suppressions_hide_a_runtimes_own_threads_unless_turned_off():
    rep, _ = report("runtime_threads")
    expect_eq([t["name"] for g in rep["groups"] for t in g["threads"]], ["worker"], "the JVM's GC thread hidden")
    rep, _ = report("runtime_threads", options="default_suppressions=0")
    expect_eq(sorted(t["name"] for g in rep["groups"] for t in g["threads"]), ["GC Thread#0", "worker"],
              "both listed without the defaults")
