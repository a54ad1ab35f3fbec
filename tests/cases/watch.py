"""Watching a service over time: growth reports (watch), the metrics file, `threadleak top`."""
import pty
import select
import shutil
import termios

from harness import *  # noqa: F401,F403


class Watched(Running):
    """The watch scenario in a mode, running until stop(); "{dir}" in options is its directory."""

    def __init__(self, *args, options="", preload=True, before=None):
        super().__init__("watch", *args, options=options, preload=preload, before=before)

    def wait_for_helper(self):
        """Until the library's helper thread runs: it starts with the program's first thread."""
        for _ in range(1200):
            if any(n.startswith("threadleak") for n in thread_names(self.pid)):
                return
            time.sleep(0.05)
        raise Failure(f"no helper thread in {thread_names(self.pid)}")

    def reports(self):
        return sorted(n for n in os.listdir(self.dir) if n.startswith("r."))

    def stop(self):
        _, err, status = self.finish("stop")
        expect_eq(status, 0, f"watch status (stderr: {err})")
        return err


WATCH = "watch=200ms:at_exit=0:format=json:output={dir}/r.%n.json"


def expect_growing_leak(rep, what):
    expect_eq(rep["trigger"], "watch", f"{what}: trigger")
    g = rep["groups"][0]
    expect("growth" in g, f"{what}: the first group has no growth: {summary(rep)}")
    expect_eq((g["state"], g["verdict"]), ("cond_wait", "blocked"), f"{what}: the group")
    expect_eq(functions(g["created_at"])[0], "handle_request", f"{what}: created_at")
    expect_eq(user_frames(g["created_at"])[0]["line"], source_line("watch.c", "leak-site"),
              f"{what}: line")
    expect_eq(functions(g["blocked_at"])[0], "wait_for_reply", f"{what}: blocked_at")
    growth = g["growth"]
    expect(growth["to"] - growth["from"] >= 8, f"{what}: growth {growth}")
    expect(growth["to"] <= g["count"], f"{what}: growth {growth} beyond the group's size")
    # Twelve samples 200 ms apart at least: 2.2 s from the first to the last.
    expect(growth["seconds"] >= 2.1, f"{what}: growth over {growth['seconds']} s")
    expect(all("growth" not in other for other in rep["groups"][1:]),
           f"{what}: only the growing group has growth")
    return growth


@test
def watch_reports_a_group_that_keeps_growing():
    with Watched("leak", options=WATCH) as w:
        rep = w.wait_for_file("r.1.json", timeout=60)
        w.stop()
    expect_growing_leak(rep, "watch report")


@test
def watch_reports_again_only_once_the_group_has_doubled():
    with Watched("leak", options=WATCH) as w:
        first = expect_growing_leak(w.wait_for_file("r.1.json", timeout=60), "first report")
        second = expect_growing_leak(w.wait_for_file("r.2.json", timeout=60), "second report")
        w.stop()
    expect(second["to"] >= 2 * first["to"], f"second report at {second}, first at {first}")


@test
def watch_report_in_text_says_how_the_group_grew():
    with Watched("leak", options="watch=200ms:at_exit=0:output={dir}/r.%n.txt") as w:
        for _ in range(1200):
            if os.path.exists(w.path("r.1.txt")) and os.path.getsize(w.path("r.1.txt")):
                break
            time.sleep(0.05)
        w.stop()
        with open(w.path("r.1.txt")) as f:
            text = f.read()
    expect(re.match(r"threadleak: \d+ threads waiting in 1 group, \d+ proven stuck, on watch, "
                    r"growing groups first", text), f"text header: {text[:200]!r}")
    expect(re.search(r"^  growing: from \d+ to \d+ threads in \d+\.\d s$", text, re.M),
           f"no growing line: {text[:600]!r}")


def quiet_watch(mode):
    """Runs mode under watch for 5 s (25 samples, two windows): no watch report, while the
    metrics file shows the watch ran."""
    with Watched(mode, options=WATCH + ":metrics={dir}/m.prom") as w:
        time.sleep(5)
        expect(os.path.exists(w.path("m.prom")), f"{mode}: the watch wrote no metrics")
        reports = w.reports()
        w.stop()
    expect_eq(reports, [], f"{mode}: watch reports")


@test
def watch_lets_a_pool_fill_up_to_its_size():
    quiet_watch("pool")


@test
def watch_lets_a_burst_come_and_go():
    quiet_watch("burst")


@test
def watch_leaves_a_program_without_threads_single_threaded_until_its_first():
    """glibc's single-thread fast paths stay (an uncontended mutex costs 4 times as much with a
    helper thread there): the helper starts with the program's first thread."""
    with Watched("idle", options="watch=200ms:at_exit=0") as w:
        time.sleep(0.5)
        names = thread_names(w.pid)
        w.stop()
    if natively("the thread count", EMULATOR_THREADS):
        expect_eq(names, ["watch"], "threads of a watched program that made none")


# ---- the metrics file ----

LABEL_RE = r'(\w+)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(rf'^(\w+)(?:\{{({LABEL_RE}(?:,{LABEL_RE})*)\}})? (\d+)$')


def parse_metrics(text):
    """{(name, ((label, value), ...)): value}, checking the exposition format on the way: every
    line a comment or a sample, each family's TYPE before its samples, no sample twice."""
    series, typed = {}, set()
    expect(text.endswith("\n"), "the file ends with a line feed")
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("# HELP "):
            continue
        m = SAMPLE.match(line)
        expect(m, f"not a sample: {line!r}")
        expect(m.group(1) in typed, f"{m.group(1)} has no TYPE before it")
        labels = tuple((k, v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\"))
                       for k, v in re.findall(LABEL_RE, m.group(2) or ""))
        key = (m.group(1), labels)
        expect(key not in series, f"{key} twice")
        series[key] = int(m.group(m.lastindex))
    return series


def check_with_promtool(path):
    promtool = shutil.which("promtool")
    if not promtool:
        print("promtool not found (Debian's prometheus package): the file was checked by this "
              "test's own parser only")
        return
    with open(path) as f:
        p = subprocess.run([promtool, "check", "metrics"], stdin=f, capture_output=True, text=True)
    expect_eq((p.returncode, p.stdout + p.stderr), (0, ""), "promtool check metrics")


def metrics_of(w):
    """The metrics file once it exists, checked, as parse_metrics gives it."""
    for _ in range(1200):
        if os.path.exists(w.path("m.prom")):
            break
        time.sleep(0.05)
    check_with_promtool(w.path("m.prom"))
    with open(w.path("m.prom")) as f:
        return parse_metrics(f.read())


def site(series, name, **labels):
    """The one sample of name with labels, created_at given as a function name."""
    fn = labels.pop("created_at", None)
    hits = [(dict(k[1]), v) for k, v in series.items() if k[0] == name and
            all(dict(k[1]).get(l) == v for l, v in labels.items()) and
            (fn is None or dict(k[1])["created_at"].split(" ")[0] == fn)]
    expect_eq(len(hits), 1, f"samples of {name} {labels} {fn}: {hits}")
    return hits[0]


@test
def metrics_file_passes_promtool_and_counts_threads_and_resources():
    with Watched("metrics", options="watch=200ms:at_exit=0:metrics={dir}/m.prom") as w:
        series = metrics_of(w)
        mode = os.stat(w.path("m.prom")).st_mode
        leftovers = [n for n in os.listdir(w.dir) if n != "m.prom"]
        pid = w.pid
        w.stop()
    labels, n = site(series, "threadleak_threads", state="cond_wait", created_at="start_waiters")
    expect_eq((n, labels["verdict"]), (5, "blocked"), "the waiters")
    expect(labels["created_at"].endswith(f"watch.c:{source_line('watch.c', 'waiters-site')}"),
           f"created_at is 'function file:line': {labels['created_at']}")
    expect_eq(site(series, "threadleak_threads", state="sleep", created_at="start_sleepers")[1], 3,
              "the sleepers")
    labels, n = site(series, "threadleak_threads", state="exited_unjoined",
                     created_at="start_quitters")
    expect_eq((n, labels["verdict"]), (2, "unjoined"), "the quitters")
    expect_eq(sum(v for k, v in series.items() if k[0] == "threadleak_threads"), 10,
              "threads in all (main is never counted)")
    expect_eq(series[("threadleak_threads_created_total", ())], 17, "created")
    expect_eq(series[("threadleak_threads_exited_total", ())], 9, "exited")
    expect_eq(site(series, "threadleak_resources", kind="timer",
                   created_at="make_resources")[1], 1, "the timer")
    expect_eq(site(series, "threadleak_resources", kind="pipe",
                   created_at="make_resources")[1], 2, "the pipes")
    info, one = site(series, "threadleak_info")
    expect_eq((info["pid"], one), (str(pid), 1), "threadleak_info")
    expect(info["command"].endswith("watch metrics"), f"command: {info['command']}")
    expect_eq(mode & 0o777, 0o644 & ~current_umask(), "the file's mode: 0644 less the umask")
    expect_eq(leftovers, [], "files left beside it")


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@test
def metrics_keep_the_50_largest_series_and_sum_the_rest_as_other():
    with Watched("many", 'quote " and \\ backslash',
                 options="watch=200ms:at_exit=0:metrics={dir}/m.prom") as w:
        time.sleep(0.5)  # the 60 threads start
        for _ in range(100):
            series = metrics_of(w)
            if sum(v for k, v in series.items() if k[0] == "threadleak_threads") == 60:
                break
            time.sleep(0.2)
        w.stop()
    threads = {dict(k[1])["created_at"]: v for k, v in series.items()
               if k[0] == "threadleak_threads"}
    expect_eq(len(threads), 51, f"series: {sorted(threads)}")
    expect_eq(threads.get("other"), 10, "the 10 past the 50 largest")
    expect(all(re.match(r"site_\d+ ", s) for s in threads if s != "other"), f"{sorted(threads)}")
    info = site(series, "threadleak_info")[0]
    expect(info["command"].endswith('watch many quote " and \\ backslash'),
           f"command label, unescaped: {info['command']!r}")


def plant_link(w):
    with open(w.path("target"), "w") as f:
        f.write("keep me\n")
    os.symlink(w.path("target"), w.path("m.prom"))


@test
def metrics_file_replaces_a_symbolic_link_instead_of_following_it():
    with Watched("idle", options="watch=200ms:at_exit=0:metrics={dir}/m.prom",
                 before=plant_link) as w:
        target = w.path("target")
        for _ in range(1200):
            if not os.path.islink(w.path("m.prom")):
                break
            time.sleep(0.05)
        series = metrics_of(w)
        with open(target) as f:
            kept = f.read()
        w.stop()
    expect_eq(kept, "keep me\n", "the link's target")
    expect_eq(series[("threadleak_threads_created_total", ())], 0,
              "a program with no thread is watched too")


@test
def metrics_without_watch_say_so():
    with Watched("idle", options="at_exit=0:metrics={dir}/m.prom") as w:
        time.sleep(0.5)
        exists = os.path.exists(w.path("m.prom"))
        err = w.stop()
    expect(not exists, "no watch, no samples, no file")
    expect(re.search(r"^threadleak: metrics=.* is written at every watch sample: set watch too",
                     err, re.M), f"stderr: {err!r}")


@test
def metrics_and_top_name_cxx_threads_by_the_program_s_own_functions():
    """std::thread and std::condition_variable are passed over, templates inlined from the
    system's headers too: the sites are start_workers and worker."""
    with Running("watch_cxx", options="watch=200ms:at_exit=0:metrics={dir}/m.prom") as w:
        for _ in range(100):
            series = metrics_of(w)
            if any(k[0] == "threadleak_threads" and v == 4 for k, v in series.items()):
                break
            time.sleep(0.1)
        top = start_program([CLI, "top", "-n", "0.2", str(w.pid)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, text=True)
        block = [top.stdout.readline() for _ in range(3)]
        top.terminate()
        top.communicate(timeout=60)
        w.finish()
    labels, n = site(series, "threadleak_threads", state="cond_wait")
    expect_eq(n, 4, "the workers")
    expect(re.fullmatch(r"start_workers(\(\))? \S*watch_cxx\.cpp:" +
                        str(source_line("watch_cxx.cpp", "cxx-site")), labels["created_at"]),
           f"created_at: {labels['created_at']}")
    expect(re.search(r"^ +4 +cond_wait +blocked +start_workers(\(\))? watch_cxx\.cpp:\d+ +"
                     r"worker(\(\))? watch_cxx\.cpp:\d+$", block[2], re.M), f"top: {block}")
    expect_eq(top.returncode, 0, "top's status on SIGTERM")


# ---- threadleak top ----

def read_until(fd, pattern, timeout=60):
    """What fd gives until pattern matches it (bytes)."""
    out, deadline = b"", time.monotonic() + timeout
    while not re.search(pattern, out):
        left = deadline - time.monotonic()
        expect(left > 0, f"no {pattern!r} within {timeout} s: {out[-2000:]!r}")
        if select.select([fd], [], [], left)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the pty's other end is closed
                chunk = b""
            expect(chunk, f"output ended before {pattern!r}: {out[-2000:]!r}")
            out += chunk
    return out


class Terminal:
    """threadleak top PID in a pseudo-terminal of 120 x 30."""

    def __init__(self, pid):
        self.master, slave = pty.openpty()
        import fcntl
        import struct
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
        self.before = termios.tcgetattr(slave)
        self.slave = slave
        self.proc = start_program([CLI, "top", "-n", "0.5", str(pid)], stdin=slave,
                                  stdout=slave, stderr=slave, start_new_session=True,
                                  preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        self.out = b""

    def until(self, pattern):
        self.out += read_until(self.master, pattern)
        return self.out

    def finish(self, key):
        os.write(self.master, key)
        status = self.proc.wait(timeout=30)
        try:
            while select.select([self.master], [], [], 0.2)[0]:
                self.out += os.read(self.master, 65536)
        except OSError:
            pass
        after = termios.tcgetattr(self.slave)
        os.close(self.slave)
        os.close(self.master)
        return status, after


def top_in_terminal(key):
    with Watched("leak", "100", options="at_exit=0") as w:
        w.wait_for_helper()
        t = Terminal(w.pid)
        screen = t.until(rb"handle_request watch\.c:\d+ +wait_for_reply watch\.c:\d+")
        screen = t.until(rb"\+\d+ +cond_wait +blocked +handle_request")
        status, after = t.finish(key)
        w.stop()
    text = t.out.decode(errors="replace")
    expect(text.startswith("\x1b[?1049h"), f"top takes the alternate screen: {text[:40]!r}")
    command = ".*watch leak 100" if natively("the command in the header", EMULATOR_CMDLINE) else ""
    expect(re.search(rf"threadleak top - pid {w.pid}: {command}", text),
           f"header with pid and command: {text[:300]!r}")
    expect(re.search(r"\d+ threads, \d+ leaked +\d\d:\d\d:\d\d", text), "threads, leaked, time")
    expect(re.search(r"COUNT +CHANGE +STATE +VERDICT +CREATED BY +WAITING IN", text), "columns")
    expect(text.endswith("\x1b[?25h\x1b[?1049l"), f"the screen given back: {text[-40:]!r}")
    expect_eq(status, 0, "status")
    expect_eq(after, t.before, "the terminal's settings, as top found them")
    return screen


@test
def top_shows_the_growing_group_in_a_terminal_and_quits_on_q():
    top_in_terminal(b"q")


@test
def top_quits_on_ctrl_c_and_gives_the_terminal_back():
    top_in_terminal(b"\x03")


@test
def top_prints_plain_lines_when_not_a_terminal_and_ends_with_the_process():
    with Watched("leak", "100", options="at_exit=0") as w:
        w.wait_for_helper()
        top = start_program([CLI, "top", "-n", "0.3", str(w.pid)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(1.5)
        w.stop()
        out, err = top.communicate(timeout=60)
    text = out.decode()
    expect_eq(top.returncode, 0, f"status (stderr {err!r})")
    expect("\x1b" not in text, "no escape sequences")
    blocks = [b for b in text.split("\n\n") if b.strip()]
    expect(len(blocks) >= 3, f"a block per refresh: {text!r}")
    expect(all(re.search(r"^ +\d+ .*cond_wait +blocked +handle_request watch\.c:\d+ +"
                         r"wait_for_reply watch\.c:\d+$", b, re.M) for b in blocks[1:]),
           f"the growing group in every block: {text!r}")
    expect(re.search(r"^ +\d+ +\+\d+ +cond_wait", text, re.M), f"a change: {text!r}")
    expect_eq(err.decode(), f"threadleak: process {w.pid} has ended\n", "stderr")


@test
def top_of_a_process_without_the_library_fails_with_one_line():
    with Watched("idle", preload=False) as w:
        p = run_program([CLI, "top", str(w.pid)], capture_output=True, text=True, timeout=60)
        w.stop()
    expect_eq(p.returncode, 1, "status")
    expect_eq(p.stderr, f"threadleak: process {w.pid} does not have libthreadleak loaded (start "
              "it with `threadleak run` or LD_PRELOAD=libthreadleak.so)\n", "stderr")
