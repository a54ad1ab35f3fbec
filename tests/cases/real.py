"""Real, unmodified programs under the library: Debian's redis-server, redis-benchmark, memcached,
pigz, xz, node and java, a Rust program built here, and chromium and ffmpeg when installed. Each does the same as without the library (output, exit
status) and its reports are checked by content. Servers listen on free loopback ports and are
stopped at the end of their test, whatever happens."""
LABEL = "real"

import contextlib  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import threading  # noqa: E402

from harness import *  # noqa: F401,F403,E402

# Debian's package for each program (.ci/run installs them)
PACKAGES = {"redis-server": "redis-server", "redis-cli": "redis-tools",
            "redis-benchmark": "redis-tools", "memcached": "memcached", "pigz": "pigz",
            "xz": "xz-utils", "node": "nodejs", "java": "openjdk-17-jre-headless",
            "haproxy": "haproxy"}


def skip_unless_preloadable(program):
    """These are the host's programs. A cross build's library is for another machine (the dynamic
    linker ignores it), and a sanitizer build's needs the sanitizer's runtime preloaded first
    (chromium, the JVM and redis bring their own allocators and signal handling, which would then
    test the sanitizer, not threadleak): either build skips their tests."""
    if ARCH != os.uname().machine:
        raise Skip(f"a cross build: the library is for {ARCH}, and {program} is the host's "
                   f"{os.uname().machine} program, into which it cannot be preloaded")
    if PRELOAD_FIRST:
        raise Skip("a sanitizer build's library needs its runtime preloaded into the host's "
                   "programs first, which they do not run under")


def optional(program, package):
    """A program CI does not install (it is large): the test is skipped without it."""
    skip_unless_preloadable(program)
    path = shutil.which(program)
    if not path:
        raise Skip(f"{program} is not installed (Debian's {package})")
    return path


def need(program):
    skip_unless_preloadable(program)
    path = shutil.which(program)
    expect(path, f"{program} is not installed: install Debian's {PACKAGES[program]} (.ci/run does)")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(ready, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not ready():
        expect(time.monotonic() < deadline, f"{what} within {timeout} s")
        time.sleep(0.05)


def accepts(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@contextlib.contextmanager
def started(cmd, env, **kwargs):
    """A program running in the background, killed on the way out if it is still there."""
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    try:
        yield p
    finally:
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=30)


def dump(pid):
    p = subprocess.run([CLI, "dump", "-f", "json", "-t", "30", str(pid)], capture_output=True,
                       text=True, timeout=60)
    expect_eq(p.returncode, 0, f"threadleak dump {pid}: {p.stderr}")
    rep = json.loads(p.stdout)
    expect_eq(rep["trigger"], "signal", "a live dump")
    return rep


def read_report(path):
    expect(os.path.exists(path), f"no report at {path}")
    with open(path) as f:
        return json.load(f)


def groups_named(rep, prefix):
    """The groups whose threads are named prefix..., and those threads."""
    return [g for g in rep["groups"] if all(t["name"].startswith(prefix) for t in g["threads"])]


def expect_no_accusation(rep, what):
    """A healthy program's threads are blocked or running, never deadlocked nor orphaned."""
    wrong = [(g["state"], g["verdict"], g.get("evidence")) for g in rep["groups"]
             if g["verdict"] in ("deadlock", "orphaned")]
    expect_eq(wrong, [], f"{what}: verdicts on a healthy program")


# ---- redis ----

REDIS_SCRIPT = [["SET", "k", "v"], ["GET", "k"], ["INCR", "n"], ["INCR", "n"],
                ["RPUSH", "l", "a", "b", "c"], ["LRANGE", "l", "0", "-1"], ["DEL", "k"],
                ["EXISTS", "k"], ["DBSIZE"]]


def redis_cli(port, *args):
    p = subprocess.run([need("redis-cli"), "-p", str(port), *args], capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stdout


def benchmark_rows(port, env):
    """A short redis-benchmark run: its exit status and the tests its CSV names."""
    p = subprocess.run([need("redis-benchmark"), "-p", str(port), "-n", "1000", "-c", "10",
                        "--threads", "2", "-t", "set,get", "--csv"], env=env,
                       capture_output=True, text=True, timeout=120)
    rows = [line.split(",")[0] for line in p.stdout.splitlines()[1:]]
    return p.returncode, rows


def redis_session(preload, d):
    """redis-server with two I/O threads: the script's replies, a short benchmark, and under the
    library dumps of the server and of a benchmark's client threads during load; then SHUTDOWN.
    """
    port = free_port()
    out = {}
    env = preload_env(f"format=json:output={d}/exit.json", preload)
    cmd = [need("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--io-threads", "3", "--io-threads-do-reads", "yes",
           "--dir", d]
    with started(cmd, env) as server:
        wait_until(lambda: redis_cli(port, "PING") == (0, "PONG\n"), "redis-server answers")
        out["replies"] = [redis_cli(port, *command) for command in REDIS_SCRIPT]
        out["benchmark"] = benchmark_rows(port, preload_env("at_exit=0", preload))
        if preload:
            load = [need("redis-benchmark"), "-p", str(port), "-l", "-c", "20", "--threads", "2",
                    "-t", "set,get", "-q"]
            with started(load, preload_env("at_exit=0")) as bench:
                clients = lambda: re.search(r"connected_clients:(\d+)",  # noqa: E731
                                            redis_cli(port, "INFO", "clients")[1])
                wait_until(lambda: (m := clients()) and int(m.group(1)) > 20, "load connected")
                out["server_dump"] = dump(server.pid)
                out["benchmark_dump"] = dump(bench.pid)
        out["shutdown"] = redis_cli(port, "SHUTDOWN", "NOSAVE")
        server.wait(timeout=60)
        out["status"] = server.returncode
    return out


@test
def redis_server_under_load_works_as_bare_and_shows_its_thread_pools():
    with tempfile.TemporaryDirectory() as bare_dir, tempfile.TemporaryDirectory() as d:
        bare = redis_session(False, bare_dir)
        under = redis_session(True, d)
        exit_report = read_report(os.path.join(d, "exit.json"))
    expect_eq(under["replies"], bare["replies"], "replies to the script")
    expect_eq(bare["benchmark"], (0, ['"SET"', '"GET"']), "redis-benchmark, bare")
    expect_eq(under["benchmark"], bare["benchmark"], "redis-benchmark under the library")
    expect_eq((under["status"], under["shutdown"][0]), (bare["status"], bare["shutdown"][0]),
              "exit status after SHUTDOWN")

    # Redis 7's I/O threads never wait in a poll or a read: they spin on a counter while there is
    # threaded I/O to do, and otherwise park on a mutex the main thread holds.
    rep = under["server_dump"]
    io = groups_named(rep, "io_thd_")
    expect_eq(sum(g["count"] for g in io), 2, f"two I/O threads: {summary(rep)}")
    for g in io:
        expect(g["state"] in ("running", "mutex_lock"), f"I/O thread state {g['state']}")
        expect_eq(functions(g["created_at"])[:1], ["initThreadedIO"], "created by initThreadedIO")
        expect("main" in functions(g["created_at"]), f"created_at {functions(g['created_at'])}")
    bio = [g for g in rep["groups"] if g["state"] == "cond_wait"
           and "bioInit" in functions(g["created_at"])]
    expect_eq(sorted(t["name"] for g in bio for t in g["threads"]),
              ["bio_aof_fsync", "bio_close_file", "bio_lazy_free"], "background job threads")
    for g in bio:
        expect("bioProcessBackgroundJobs" in functions(g["blocked_at"]), f"{g['blocked_at']}")
    expect_no_accusation(rep, "live dump of redis-server")

    # redis-benchmark --threads: each client thread runs an event loop, waiting in epoll_wait
    rep = under["benchmark_dump"]
    (g,) = group_by_state(rep, "poll")
    expect_eq(g["count"], 2, "redis-benchmark's two client threads")
    expect("aeMain" in functions(g["blocked_at"]), f"blocked_at {functions(g['blocked_at'])}")
    expect("main" in functions(g["created_at"]), f"created_at {functions(g['created_at'])}")
    expect(all(re.fullmatch(r"fd \d+", t["object"]) for t in g["threads"]),
           f"each on its epoll descriptor: {g['threads']}")

    expect_eq(exit_report["trigger"], "exit", "redis-server's report at exit")
    expect(groups_named(exit_report, "bio_"), f"background threads at exit: {summary(exit_report)}")
    expect_no_accusation(exit_report, "redis-server at exit")


# ---- memcached ----

MEMCACHED_SCRIPT = (b"set k 0 0 5\r\nhello\r\nget k\r\nincr n 1\r\nset n 0 0 1\r\n7\r\n"
                    b"incr n 5\r\ndelete k\r\nget k\r\n")
MEMCACHED_REPLY_END = b"NOT_FOUND\r\nSTORED\r\n12\r\nDELETED\r\nEND\r\n"


def memcached_talk(port):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(MEMCACHED_SCRIPT)
        reply = b""
        while not reply.endswith(MEMCACHED_REPLY_END):
            chunk = s.recv(4096)
            expect(chunk, f"memcached closed the connection after {reply!r}")
            reply += chunk
    return reply


def memcached_session(preload, d):
    port = free_port()
    # memcached takes SIGUSR1 for itself (a graceful stop): dumps use another signal
    env = preload_env(f"format=json:output={d}/exit.json:signal=SIGRTMIN+3", preload)
    as_root = ["-u", "root"] if os.geteuid() == 0 else []
    cmd = [need("memcached"), "-p", str(port), "-U", "0", "-l", "127.0.0.1", "-t", "4", *as_root]
    out = {}
    with started(cmd, env) as server:
        wait_until(lambda: accepts(port), "memcached listens")
        out["reply"] = memcached_talk(port)
        if preload:
            out["dump"] = dump(server.pid)
        server.terminate()
        server.wait(timeout=60)
        out["status"] = server.returncode
    return out


@test
def memcached_works_as_bare_and_shows_its_workers_in_epoll():
    with tempfile.TemporaryDirectory() as bare_dir, tempfile.TemporaryDirectory() as d:
        bare = memcached_session(False, bare_dir)
        under = memcached_session(True, d)
        exit_report = read_report(os.path.join(d, "exit.json"))
    expect(bare["reply"].startswith(b"STORED\r\nVALUE k 0 5\r\nhello\r\nEND\r\n"), bare["reply"])
    expect_eq(under["reply"], bare["reply"], "replies")
    expect_eq(under["status"], bare["status"], "exit status after SIGTERM")
    for rep, what in ((under["dump"], "live dump"), (exit_report, "at exit")):
        (g,) = groups_named(rep, "mc-worker")
        expect_eq((g["count"], g["state"], g["verdict"]), (4, "poll", "blocked"),
                  f"{what}: the four workers wait in libevent's epoll_wait")
        expect("event_base_loop" in functions(g["blocked_at"]), f"{what}: {g['blocked_at']}")
        # memcached is stripped: its own frames are "??", but the stack runs down to main's start
        created = functions(g["created_at"])
        expect(len(created) >= 3 and "__libc_start_main" in created,
               f"{what}: a creation stack from main: {created}")
        expect_no_accusation(rep, f"memcached, {what}")


# ---- healthy servers, as a new user dumps them: no option at all ----

@contextlib.contextmanager
def load(port, request, reply_end, clients=8):
    """clients connections that send request and read up to reply_end, over and over, until the
    block ends; yields a list that counts the replies."""
    stop, replies, errors = threading.Event(), [0], []

    def client():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                while not stop.is_set():
                    s.sendall(request)
                    got = b""
                    while not got.endswith(reply_end):
                        chunk = s.recv(65536)
                        if not chunk:
                            return
                        got += chunk
                    replies[0] += 1
        except OSError as e:
            errors.append(e)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: replies[0] > 100 or errors, "load runs")
        expect_eq(errors, [], "load clients")
        yield replies
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)


def plain_dump(pid, *args):
    """`threadleak dump` with no option, as a new user types it."""
    p = subprocess.run([CLI, "dump", *args, str(pid)], capture_output=True, text=True, timeout=60)
    expect_eq((p.returncode, p.stderr), (0, ""), f"threadleak dump {' '.join(args)} {pid}")
    return p.stdout


def expect_healthy_text(text, what):
    """A live dump of a healthy server: it describes, names every system call, counts objects."""
    expect(re.match(r"threadleak: \d+ threads? waiting in \d+ groups?, 0 proven stuck, on signal ",
                    text), f"{what}: header {text[:200]!r}")
    expect("leaked" not in text, f"{what}: a live dump accuses no one:\n{text}")
    expect(not re.search(r"syscall:\d", text), f"{what}: a system call left as a number:\n{text}")
    expect("(several)" not in text, f"{what}: objects left uncounted:\n{text}")


def expect_no_signal_advice(stderr, taken, what):
    """No line of the library names a signal the program takes for itself."""
    for line in stderr.splitlines():
        if line.startswith("threadleak:"):
            for sig in taken:
                expect(not re.search(rf"\b{sig}\b(?!\+)", line), f"{what}: {line}")


@test
def memcached_under_load_dumped_with_no_option_reads_as_healthy():
    port = free_port()
    as_root = ["-u", "root"] if os.geteuid() == 0 else []
    cmd = [need("memcached"), "-p", str(port), "-U", "0", "-l", "127.0.0.1", "-t", "4", *as_root]
    with started(cmd, preload_env()) as server:
        wait_until(lambda: accepts(port), "memcached listens")
        memcached_talk(port)
        with load(port, b"set k 0 0 5\r\nhello\r\nget k\r\n", b"END\r\n") as replies:
            before = replies[0]
            texts = [plain_dump(server.pid) for _ in range(3)]
            rep = json.loads(plain_dump(server.pid, "-f", "json"))
            expect(replies[0] > before, "memcached served the load while dumped")
        server.terminate()
        _, stderr = server.communicate(timeout=60)
    for text in texts:
        expect_healthy_text(text, "memcached")
        expect(re.search(r"^4 threads: poll, blocked, for .*, on 4 objects$", text, re.M)
               or "mc-worker" in text, f"the workers: {text}")
    # under load a worker may be serving a request when the dump reads it
    workers = groups_named(rep, "mc-worker")
    expect_eq(sum(g["count"] for g in workers), 4, f"the four workers: {summary(rep)}")
    expect(all(g["state"] in ("poll", "running") for g in workers), f"workers: {summary(rep)}")
    expect_no_accusation(rep, "memcached under load")
    # at exit (SIGTERM): the workers, still in epoll, are reported; libevent's pipes (one per
    # event base, each a worker's) are not
    stderr = stderr.decode()
    expect(re.search(r"^threadleak: \d+ leaked threads in \d+ groups at exit", stderr, re.M),
           f"the exit report: {stderr[:300]}")
    expect("never closed" not in stderr, f"no pipe block at exit:\n{stderr}")
    expect_no_signal_advice(stderr, ["SIGUSR1"], "memcached")


HAPROXY_CONFIG = """global
    nbthread 4
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string ok
"""
HAPROXY_REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def haproxy_cmd(d, port):
    """haproxy in the foreground with 4 threads, answering every request itself on port."""
    config = os.path.join(d, "haproxy.cfg")
    with open(config, "w") as f:
        f.write(HAPROXY_CONFIG.format(port=port))
    return [need("haproxy"), "-db", "-f", config]


@test
def haproxy_under_load_dumped_with_no_option_reads_as_healthy():
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        # haproxy takes SIGUSR1 (a soft stop) and ignores SIGUSR2: dumps move to a free signal
        with started(haproxy_cmd(d, port), preload_env()) as server:
            wait_until(lambda: accepts(port), "haproxy listens")
            with load(port, HAPROXY_REQUEST, b"ok") as replies:
                before = replies[0]
                texts = [plain_dump(server.pid) for _ in range(3)]
                rep = json.loads(plain_dump(server.pid, "-f", "json"))
                expect(replies[0] > before, "haproxy served the load while dumped")
            server.send_signal(signal_module.SIGUSR1)  # its graceful stop
            _, stderr = server.communicate(timeout=60)
            status = server.returncode
    for text in texts:
        expect_healthy_text(text, "haproxy")
    pollers = [g for g in rep["groups"] if "setup_extra_threads" in functions(g["created_at"])]
    expect(pollers, f"haproxy's threads: {summary(rep)}")
    expect_eq(sum(g["count"] for g in pollers), 3, "three threads besides main")
    expect_no_accusation(rep, "haproxy under load")
    expect_eq(status, 0, "haproxy's status after its soft stop")
    stderr = stderr.decode()
    expect_eq([l for l in stderr.splitlines() if l.startswith("threadleak")], [],
              f"a clean stop prints nothing of ours:\n{stderr}")


@test
def haproxy_told_to_use_its_own_signals_gets_advice_naming_only_free_ones():
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        for sig in ("SIGUSR1", "SIGUSR2"):
            with started(haproxy_cmd(d, port), preload_env(f"signal={sig}:at_exit=0")) as server:
                wait_until(lambda: accepts(port), "haproxy listens")
                expect_healthy_text(plain_dump(server.pid), f"haproxy, signal={sig}")
                server.send_signal(signal_module.SIGUSR1)
                _, stderr = server.communicate(timeout=60)
            stderr = stderr.decode()
            moved = [l for l in stderr.splitlines() if l.startswith("threadleak:")]
            expect(len(moved) == 1 and re.search(rf"takes {sig} for itself; live dumps answer "
                                                  r"SIGRTMIN\+\d+ instead", moved[0]),
                   f"one line saying where dumps went: {stderr}")
            expect_no_signal_advice(stderr.replace(f"takes {sig} for itself", ""),
                                    ["SIGUSR1", "SIGUSR2"], f"haproxy, signal={sig}")


# ---- pigz ----

@test
def pigz_output_is_identical_and_it_leaves_no_thread():
    need("pigz")
    with tempfile.TemporaryDirectory() as d:
        text = os.path.join(d, "text")
        rng = __import__("random").Random(7)
        words = ["".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 9)))
                 for _ in range(3000)]
        with open(text, "w") as f:
            f.write(" ".join(rng.choice(words) for _ in range(600000)))
        outputs = []
        for preload in (False, True):
            env = preload_env(f"format=json:output={d}/pigz.{preload}.json", preload)
            p = subprocess.run(["pigz", "-p", "4", "-c", text], env=env, capture_output=True,
                               timeout=120)
            outputs.append((p.returncode, p.stdout))
        expect_eq(outputs[0][0], 0, "bare pigz")
        expect(outputs[1] == outputs[0], "pigz's output under the library differs from bare")
        back = subprocess.run(["pigz", "-d", "-p", "4", "-c"], input=outputs[1][1],
                              env=preload_env(f"format=json:output={d}/unpigz.json"),
                              capture_output=True, timeout=120)
        with open(text, "rb") as f:
            expect(back.returncode == 0 and back.stdout == f.read(), "round trip")
        for name in ("pigz.True.json", "unpigz.json"):
            rep = read_report(os.path.join(d, name))
            expect_eq((rep["threads_leaked"], rep["groups"]), (0, []), f"{name}: nothing left")


# ---- a Rust program ----

def rustc():
    skip_unless_preloadable("what rustc builds")
    path = shutil.which("rustc")
    if not path:
        raise Skip("rustc is not installed (Debian's rustc package; .ci/run installs it)")
    return path


@test
def rust_threads_blocked_on_a_channel_and_a_mutex_are_futex_waits_with_rust_names():
    compiler = rustc()
    source = os.path.join(SOURCE, "tests", "scenarios", "leak.rs")
    with tempfile.TemporaryDirectory() as d:
        # rustc's default mangling is legacy (an explicit legacy needs -Z on newer compilers)
        for mangling, flags in (("legacy", []), ("v0", ["-C", "symbol-mangling-version=v0"])):
            prog = os.path.join(d, f"leak_{mangling}")
            build = subprocess.run([compiler, "-g", "-C", "opt-level=0", *flags, source, "-o", prog],
                                   capture_output=True, text=True, timeout=300)
            expect_eq(build.returncode, 0, f"rustc: {build.stderr}")
            bare = subprocess.run([prog], env=preload_env(preload=False), capture_output=True,
                                  text=True, timeout=60)
            path = os.path.join(d, f"{mangling}.json")
            under = subprocess.run([prog], env=preload_env(f"format=json:output={path}"),
                                   capture_output=True, text=True, timeout=60)
            expect_eq((bare.returncode, bare.stdout), (0, "main done\n"), "bare run")
            expect_eq((under.returncode, under.stdout), (0, bare.stdout), "under the library")
            check_rust_report(read_report(path), mangling)


def check_rust_report(rep, mangling):
    by_name = {g["threads"][0]["name"]: g for g in rep["groups"]}
    expect_eq(sorted(by_name), ["holder", "receiver", "waiter"], f"{mangling}: {summary(rep)}")
    for name, state, top, std in (("receiver", "futex_wait", "leak::wait_for_message",
                                   r"Receiver<.*>::recv"),
                                  ("waiter", "futex_wait", "leak::take_lock", r"Mutex<.*>::lock"),
                                  ("holder", "sleep", "leak::hold_for_ever", r"sleep")):
        g = by_name[name]
        blocked, created = functions(g["blocked_at"]), functions(g["created_at"])
        expect_eq((g["state"], g["verdict"]), (state, "blocked"), f"{mangling}: {name}")
        expect(top in blocked, f"{mangling}: {name}'s function in {blocked}")
        expect(any(re.search(std, f) for f in blocked[:blocked.index(top)]),
               f"{mangling}: std's frames above {top}: {blocked}")
        expect("leak::main" in created and any("spawn" in f for f in created),
               f"{mangling}: {name} created by std::thread's spawn from main: {created}")
        if state == "futex_wait":
            expect(re.fullmatch(r"0x[0-9a-f]+", g["object"]), f"the futex word: {g['object']}")
            # under a sanitizer's malloc the scan adds why it could not judge the word
            expect(re.fullmatch(r"never woken(; no root seen reaches it, but malloc is not "
                                r"glibc's but .*)?", g.get("evidence", "")),
                   f"{mangling}: {name}'s evidence {g.get('evidence')!r}")
    names = [f for g in rep["groups"]
             for f in functions(g["blocked_at"]) + functions(g["created_at"])]
    mangled = [f for f in names if re.match(r"_(ZN|R[A-Z])", f)]
    expect_eq(mangled, [], f"{mangling}: names left mangled")


# ---- xz, node, java, chromium, ffmpeg: unchanged, and silent ----

def bare_and_under(cmd, options, **kwargs):
    """cmd run bare and under the library with options: both CompletedProcesses."""
    return [subprocess.run(cmd, env=preload_env(options, preload), capture_output=True,
                           timeout=300, **kwargs) for preload in (False, True)]


@test
def xz_output_is_identical_its_stderr_silent_and_the_report_in_its_file():
    xz = need("xz")
    with tempfile.TemporaryDirectory() as d:
        text = os.path.join(d, "text")
        with open(text, "wb") as f:
            f.write(os.urandom(1 << 20).hex().encode() * 4)
        report_path = os.path.join(d, "xz.json")
        bare, under = bare_and_under([xz, "-T2", "-3", "-c", text],
                                     f"format=json:output={report_path}")
        expect_eq((under.returncode, under.stderr), (0, b""), "status, and not a word on stderr")
        expect(under.stdout == bare.stdout, "xz's output under the library differs from bare")
        rep = read_report(report_path)
    # xz exits without ending liblzma's coder: its worker threads still wait, none accused
    expect_eq(rep["trigger"], "exit", "the exit report")
    expect(all("liblzma" in (g["created_at"][0].get("module") or "") for g in rep["groups"]),
           f"only liblzma's workers: {summary(rep)}")
    expect_no_accusation(rep, "xz at exit")


@test
def node_runs_silent_and_threadleak_dump_works_with_no_options():
    node = need("node")
    script = "console.log('ready ' + process.pid); setTimeout(() => console.log('done'), 3000)"
    with started([node, "-e", script], preload_env(), text=True) as p:
        line = p.stdout.readline()
        expect(line.startswith("ready "), f"node started: {line!r}")
        dumped = subprocess.run([CLI, "dump", str(p.pid)], capture_output=True, text=True,
                                timeout=60)
        out, err = p.communicate(timeout=60)
    expect_eq((dumped.returncode, dumped.stderr), (0, ""), "threadleak dump of node")
    expect(re.match(r"threadleak: .* on signal \(pid \d+", dumped.stdout), dumped.stdout[:300])
    expect_eq((p.returncode, out, err), (0, "done\n", ""), "node's status, output and silence")


@test
def java_version_prints_what_it_prints_bare_and_no_runtime_thread_is_accused():
    java = need("java")
    bare, under = bare_and_under([java, "-version"], "", text=True)
    expect_eq((under.returncode, under.stdout, under.stderr),
              (bare.returncode, bare.stdout, bare.stderr),
              "java -version: the JVM's own threads are suppressed by default")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.json")
        subprocess.run([java, "-version"], capture_output=True, timeout=300,
                       env=preload_env(f"default_suppressions=0:format=json:output={path}"))
        rep = read_report(path)
    expect(rep["groups"], "without the default suppressions the JVM's threads are listed")
    expect_no_accusation(rep, "the JVM's own threads")


@test
def chromium_headless_runs_and_prints_the_page_as_bare():
    chromium = optional("chromium", "chromium")
    with tempfile.TemporaryDirectory() as d:
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={d}",
               "--dump-dom", "file:///etc/hostname"]
        bare, under = bare_and_under(cmd, "at_exit=0", text=True)
    expect_eq(bare.returncode, 0, f"bare chromium: {bare.stderr[-500:]}")
    expect_eq((under.returncode, under.stdout), (0, bare.stdout), "the same page, the same status")


@test
def ffmpeg_output_is_identical():
    ffmpeg = optional("ffmpeg", "ffmpeg")
    cmd = [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=25",
           "-threads", "4", "-f", "nut", "-c:v", "mpeg4", "-fflags", "+bitexact", "-"]
    bare, under = bare_and_under(cmd, "")
    expect_eq(bare.returncode, 0, f"bare ffmpeg: {bare.stderr[-500:]}")
    expect_eq((under.returncode, under.stderr), (0, b""), "status, and silence")
    expect(under.stdout == bare.stdout, "ffmpeg's output under the library differs from bare")
