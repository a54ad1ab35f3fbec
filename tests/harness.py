"""What every scenario test uses: running programs under the library, reading reports, checks."""
import atexit
import gzip
import json
import os
import re
import shlex
import shutil
import signal as signal_module
import stat
import subprocess
import sys
import tempfile
import time

LIB = os.environ.get("TL_LIB", "")
SCENARIOS = os.environ.get("TL_SCENARIOS", "")
CLI = os.environ.get("TL_CLI", "")
SOURCE = os.environ.get("TL_SOURCE", "")
# Sanitizer builds put their runtime first, as the sanitizers require.
PRELOAD_FIRST = os.environ.get("TL_PRELOAD_FIRST", "")
# The architecture the programs are built for (x86_64, aarch64). A cross build runs them through
# an emulator ("qemu-aarch64 -L /"), and multiplies every time limit of a test by TIME_SCALE.
ARCH = os.environ.get("TL_ARCH", os.uname().machine)
EMULATOR = shlex.split(os.environ.get("TL_EMULATOR", ""))
TIME_SCALE = float(os.environ.get("TL_TIME_SCALE", "1"))
CC = os.environ.get("TL_CC", "cc")  # the C compiler that built them


class Failure(Exception):
    pass


class Skip(Exception):
    """A test that cannot run here; its message says why. ctest shows it as skipped (status 77)."""


def skip_under_emulation(reason):
    """Skips the test when the programs run under an emulator that cannot do what it needs (the
    reason says what); never on a native run."""
    if EMULATOR:
        raise Skip(f"under {EMULATOR[0]}: {reason}")


# What a process under qemu-user shows the rest of the system is the emulator's, not the program's.
PROC_SYSCALL = ("/proc/PID/task/TID/syscall gives the emulator's host system call, so the library "
                "names a wait channel instead")
HOST_SIGNALS = "the emulator catches every signal on the host, so /proc shows each one caught"
EMULATOR_THREADS = "/proc/PID/task also lists the emulator's own threads"
EMULATOR_CMDLINE = "/proc/PID/cmdline is the emulator's, its options before the program's"
RT_SIGNALS = ("the emulator gives the program's real-time signals other host numbers: one sent "
              "from outside arrives as another (threadleak dump, emulated too, sends the right "
              "one)")
HIGH_RT_SIGNALS = ("qemu 7.2 gives the program only as many real-time signals as the host has to "
                   "spare: the highest ones, which the library moves to when the program takes "
                   "SIGUSR1, are accepted by sigaction but cannot be sent (EINVAL)")
HOST_PROGRAM = ("threadleak run refuses the host's programs (sh), built for another machine than "
                "the library")
FORK_THEN_THREAD = "the emulator cannot start a thread in the fork child of a threaded program"
UNCHECKED = []  # (what, why): checks an emulator made impossible in this test


def natively(what, why):
    """Whether a check of what can be made: always on a native run. Under an emulator that hides
    it (why), the check is left out, the test's other checks still run, and a test that passes
    them is reported skipped, naming what it could not check."""
    if EMULATOR:
        UNCHECKED.append((what, why))
    return not EMULATOR


def expect_kernel_wait(obj, call, what):
    """obj, a thread's object when no wrapper recorded its wait, names the system call `call` it
    sits in (as the architecture numbers it: pause() is ppoll on aarch64), from /proc. Under an
    emulator it can only be a wait channel."""
    name = {("aarch64", "pause"): "ppoll"}.get((ARCH, call), call)
    if natively(f"{what}: the system call", PROC_SYSCALL):
        expect_eq(obj, f"syscall:{name}", what)
    else:
        expect(obj.startswith("wchan:") or obj == "", f"{what}: a wait channel, not {obj!r}")


def emulator_runs(prog, *args, why):
    """Whether prog runs, without the library, here: always natively. Under an emulator that
    cannot run it (why says what it lacks; the emulator's own message is added), the check that
    needs it is left out as natively() leaves one out: a limit of the emulator, not the library."""
    if not EMULATOR:
        return True
    bare = run(prog, *args, preload=False)
    if bare.returncode == 0:
        return True
    said = [l for l in bare.stderr.splitlines() if l.strip() and l.strip() != "**"]
    UNCHECKED.append((f"{prog} {' '.join(args)}", f"{why}; without the library too, it ends with "
                      f"status {bare.returncode}: {said[0] if said else ''}"))
    return False


def skip_unless_emulator_runs(prog, *args, why):
    """Skips a test when the emulator cannot run prog even without the library (see
    emulator_runs)."""
    if not emulator_runs(prog, *args, why=why):
        _, reason = UNCHECKED.pop()
        skip_under_emulation(reason)


def expect(cond, what):
    if not cond:
        raise Failure(what)


def expect_eq(actual, expected, what):
    if actual != expected:
        raise Failure(f"{what}: expected {expected!r}, got {actual!r}")


def preload_env(options="", preload=True):
    env = dict(os.environ)
    env.pop("THREADLEAK_OPTIONS", None)
    if preload:
        env["LD_PRELOAD"] = ":".join(p for p in (PRELOAD_FIRST, LIB) if p)
    else:
        env.pop("LD_PRELOAD", None)
    if options:
        env["THREADLEAK_OPTIONS"] = options
    return env


def seconds(s):
    """A time limit of s seconds, scaled for emulated runs."""
    return s * TIME_SCALE


_emulator_links = None


def emulator_named(name):
    """The emulator's path through a symbolic link called name. The kernel names a process after
    the file it execs: so the program has its own name (as binfmt_misc would give it), and the
    threads it makes inherit it, rather than the emulator's."""
    global _emulator_links
    if _emulator_links is None:
        _emulator_links = tempfile.mkdtemp(prefix="tl-emulator-")
        atexit.register(shutil.rmtree, _emulator_links, ignore_errors=True)
    link = os.path.join(_emulator_links, name)
    if not os.path.exists(link):
        os.symlink(shutil.which(EMULATOR[0]), link)
    return link


def program(cmd, env=None):
    """(argv, env) that run cmd, whose first word is a program built here, with env (default: ours).
    Under an emulator the program runs through it, and the preload goes to the emulated program
    (qemu's -E): left in the emulator's own environment, it would be applied to the host's
    emulator binary. Every program built here is started this way: run_program, start_program."""
    env = dict(os.environ if env is None else env)
    if not EMULATOR:
        return list(cmd), env
    argv = [emulator_named(os.path.basename(cmd[0])), *EMULATOR[1:]]
    preload = env.pop("LD_PRELOAD", None)
    if preload is not None:
        expect("," not in preload, f"qemu's -E splits at commas: {preload}")
        argv += ["-E", f"LD_PRELOAD={preload}"]
    return argv + list(cmd), env


def run_program(cmd, env=None, timeout=120, **kw):
    """subprocess.run of a program built here (see program); timeout in unscaled seconds."""
    argv, env = program(cmd, env)
    return subprocess.run(argv, env=env, timeout=seconds(timeout), **kw)


def start_program(cmd, env=None, **kw):
    """subprocess.Popen of a program built here (see program)."""
    argv, env = program(cmd, env)
    return subprocess.Popen(argv, env=env, **kw)


def skip_unless_exec_of_built_programs(why):
    """Skips a test in which a program built here execs another (why says where), when they run
    under an emulator and the kernel cannot start them itself: qemu-user passes an execve to the
    kernel, which runs a foreign program only with a binfmt_misc handler (qemu-user-binfmt)."""
    if not EMULATOR:
        return
    try:
        subprocess.run([CLI, "--version"], capture_output=True, timeout=seconds(60))
    except OSError as e:
        skip_under_emulation(f"{why}, and without a binfmt_misc handler the kernel cannot start "
                             f"a program built for this target ({e.strerror})")


def exec_argv(cmd):
    """cmd for a program built here that a host program will exec (setpriv): natively itself;
    under an emulator, the emulator first, since the kernel cannot start a foreign program without
    binfmt_misc. (threadleak run refuses the emulator, a program for another machine.)"""
    if not EMULATOR:
        return list(cmd)
    return [emulator_named(os.path.basename(cmd[0])), *EMULATOR[1:], *cmd]


TESTS = {}  # name -> (function, label)


def test(fn):
    """Registers a test. Its ctest label (ctest -L LABEL) is the module's LABEL when it sets one
    before its tests (several modules may share a label: real), else the module's name."""
    module = sys.modules[fn.__module__]
    TESTS[fn.__name__] = (fn, getattr(module, "LABEL", fn.__module__.rsplit(".", 1)[-1]))
    return fn


def run(prog, *args, options="", preload=True, timeout=120):
    return run_program([os.path.join(SCENARIOS, prog), *args], env=preload_env(options, preload),
                       capture_output=True, text=True, timeout=timeout)


def report(prog, *args, options="", status=0, preload=True):
    """Runs prog with a json report written to a file; returns (report, process)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "report.json")
        opts = f"format=json:output={path}" + (":" + options if options else "")
        p = run(prog, *args, options=opts, preload=preload)
        expect_eq(p.returncode, status, f"{prog} exit status (stderr: {p.stderr.strip()})")
        expect(os.path.exists(path), f"{prog} wrote no report; stderr: {p.stderr}")
        with open(path) as f:
            return json.load(f), p


def check_blocked_wait(prog, mode, state, kind, creators):
    """prog's mode leaves one thread blocked in state, its wait in block_in_MODE, made by the
    functions creators (innermost first), its object of kind: address, thread (the joined one's
    tid) or none."""
    rep, _ = report(prog, mode)
    (g,) = group_by_state(rep, state)
    expect_eq((g["count"], g["verdict"]), (1, "blocked"), "group")
    expect_eq(functions(g["blocked_at"])[0], f"block_in_{mode}", "blocked_at")
    expect_eq(functions(g["created_at"])[:len(creators)], creators, "created_at")
    expect_eq(g["threads"][0]["creator_tid"], rep["pid"], "creator")
    expect(20 <= g["blocked_ms_min"] < 60000, f"blocked for {g['blocked_ms_min']} ms")
    if kind == "address":
        expect(re.fullmatch(r"0x[0-9a-f]+", g["object"]), f"object {g['object']!r}")
    elif kind == "none":
        expect_eq(g["object"], "", "object")
    else:
        (target,) = [t for other in rep["groups"] if other is not g for t in other["threads"]]
        expect_eq(g["object"], f"tid {target['tid']}", "object: the joined thread")


def test_each(table, name, check):
    """A test for each mode of table (mode -> args), named name.format(mode), running
    check(mode, *args)."""
    for mode, args in table.items():
        def _check(mode=mode, args=args):
            check(mode, *args)
        _check.__name__ = name.format(mode)
        _check.__module__ = check.__module__  # its label is the module's
        test(_check)


class Running:
    """A scenario program that prints "ready PID", then runs until a line on its stdin (finish()),
    in a directory of its own (dir, its working directory, gone with it): "{dir}" in options and
    env's values is that directory. before(self), if given, runs once dir exists, before the
    program starts."""

    def __init__(self, prog, *args, options="", preload=True, env=None, before=None):
        self.dir = tempfile.mkdtemp()
        if before:
            before(self)
        env = {k: v.replace("{dir}", self.dir) for k, v in (env or {}).items()}
        self.proc = start_program([os.path.join(SCENARIOS, prog), *args], cwd=self.dir,
                                  env=dict(preload_env(options.replace("{dir}", self.dir), preload),
                                           **env),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        expect(line.startswith("ready "), f"{prog} {args} did not start: {line!r}")
        self.pid = int(line.split()[1])

    def path(self, name):
        return os.path.join(self.dir, name)

    def wait_for_file(self, name, parse=json.loads, timeout=10):
        """The file once it exists and parses (a report is written after its file is made)."""
        deadline = time.monotonic() + seconds(timeout)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"ended before {name} came: {self.proc.stderr.read()}")
            try:
                with open(self.path(name), "rb") as f:
                    return parse(f.read())
            except (OSError, ValueError, Failure):
                time.sleep(0.02)
        raise Failure(f"no whole {name} within {timeout} s: {os.listdir(self.dir)}")

    def finish(self, line="go"):
        out, err = self.proc.communicate(line + "\n", timeout=seconds(120))
        return out, err, self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        subprocess.run(["rm", "-rf", self.dir])


def thread_names(pid):
    """The names of pid's threads, as the kernel has them."""
    names = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                names.append(f.read().strip())
        except OSError:  # ended meanwhile
            pass
    return names


INTERCEPTOR = r"_*interceptor_[\w.]+"
EXITED = r"(has exited|exited [\d.]+ (ms|s|min|h) ago)"


def user_frames(frames):
    """Frames less those of sanitizer interceptors, which sit above ours in ASan runs."""
    frames = list(frames)
    while frames and re.fullmatch(INTERCEPTOR, frames[0]["function"]):
        frames.pop(0)
    return frames


def functions(frames):
    return [f["function"] for f in user_frames(frames)]


def group_by_state(rep, state):
    groups = [g for g in rep["groups"] if g["state"] == state]
    expect(groups, f"no group in state {state}: {summary(rep)}")
    return groups


def summary(rep):
    return [(g["count"], g["state"], g["verdict"], functions(g["created_at"])[:2]) for g in rep["groups"]]


def source_line(name, marker):
    with open(os.path.join(SOURCE, "tests", "scenarios", name)) as f:
        for n, line in enumerate(f, 1):
            if marker in line:
                return n
    raise Failure(f"no {marker} in {name}")


def api(mode, *args):
    """Runs the api scenario, which links the library itself."""
    p = run("api", mode, *args, preload=False)
    expect_eq(p.returncode, 0, f"api {mode}: {p.stderr}")
    return p


# ---- reading pprof profiles ----

def _varint(data, i):
    value = shift = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def proto_fields(data):
    """A protobuf message as (field, value) pairs: an int for a varint, bytes for the rest."""
    i, fields = 0, []
    while i < len(data):
        key, i = _varint(data, i)
        if key & 7 == 0:
            value, i = _varint(data, i)
        elif key & 7 == 2:
            n, i = _varint(data, i)
            value, i = data[i:i + n], i + n
        else:
            raise Failure(f"unexpected wire type {key & 7}")
        fields.append((key >> 3, value))
    return fields


def packed(data):
    values, i = [], 0
    while i < len(data):
        v, i = _varint(data, i)
        values.append(v)
    return values


def read_pprof(source):
    """The profile (a path, or its bytes) as {sample_type, samples: [(value, labels, stack functions)]}."""
    if isinstance(source, bytes):
        top = proto_fields(gzip.decompress(source))
    else:
        with gzip.open(source) as f:
            top = proto_fields(f.read())
    strings = [v.decode() for k, v in top if k == 6]
    expect_eq(strings[0], "", "string_table[0]")
    functions, locations = {}, {}
    for k, v in top:
        if k == 5:
            fn = dict(proto_fields(v))
            functions[fn[1]] = strings[fn[2]]
        elif k == 4:
            loc = proto_fields(v)
            lines = [dict(proto_fields(line)) for key, line in loc if key == 4]
            locations[dict(loc)[1]] = [functions_id[1] for functions_id in lines]
    sample_type = [dict(proto_fields(v)) for k, v in top if k == 1]
    samples = []
    for k, v in top:
        if k != 2:
            continue
        fields = proto_fields(v)
        ids = [i for key, val in fields if key == 1 for i in packed(val)]
        values = [i for key, val in fields if key == 2 for i in packed(val)]
        labels = {strings[dict(proto_fields(val))[1]]: strings[dict(proto_fields(val))[2]]
                  for key, val in fields if key == 3}
        stack = [functions[f] for i in ids for f in locations[i]]
        samples.append((values, labels, stack))
    return {"sample_type": [(strings[t[1]], strings[t[2]]) for t in sample_type], "samples": samples}
