"""The command-line tool: `run` fails closed, every command explains itself, options merge."""
import shutil

from harness import *  # noqa: F401,F403


def cli(*args, env=None, tool=None, timeout=60):
    return run_program([tool or CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)


def run_env():
    """The environment `threadleak run` starts from: the sanitizer runtime first, if any."""
    env = preload_env(preload=False)
    if PRELOAD_FIRST:
        env["LD_PRELOAD"] = PRELOAD_FIRST
    return env


def expect_fails_closed(p, pattern, what):
    expect_eq(p.returncode, 125, f"{what}: status ({p.stderr})")
    expect_eq(p.stdout, "", f"{what}: the program did not run")
    expect(re.fullmatch(r"threadleak: [^\n]+\n", p.stderr), f"{what}: one line: {p.stderr!r}")
    expect(re.search(pattern, p.stderr), f"{what}: {p.stderr!r}")


def program_copy(d, name="prog"):
    """A copy of a scenario that prints nothing and exits 0, to be altered."""
    path = os.path.join(d, name)
    shutil.copy(os.path.join(SCENARIOS, "alive"), path)
    return path


def script(d, text):
    """An executable script in d."""
    path = os.path.join(d, "script")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path


def install_prefix():
    with open(os.path.join(os.environ["TL_BUILD"], "CMakeCache.txt")) as f:
        return re.search(r"^CMAKE_INSTALL_PREFIX:PATH=(.*)$", f.read(), re.M).group(1)


@test
def run_fails_closed_when_the_library_is_missing():
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(os.path.join(d, "bin"))
        tool = shutil.copy(CLI, os.path.join(d, "bin", "threadleak"))
        p = cli("run", "--", "sh", "-c", "echo ran", tool=tool, env=run_env())
        installed = os.path.join(install_prefix(), "lib", "libthreadleak.so")
        if os.path.exists(installed):  # an installed threadleak: the tool takes that one
            expect_eq((p.returncode, p.stdout), (0, "ran\n"), f"with {installed}: {p.stderr}")
            return
        expect_fails_closed(p, rf"libthreadleak\.so is neither next to this tool \(in {re.escape(d)}/lib\) "
                               rf"nor in its install prefix \(in {re.escape(os.path.dirname(installed))}\), "
                               r"so sh would run unchecked$", "no library")


@test
def run_fails_closed_for_a_static_program():
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "s.c"), os.path.join(d, "static")
        with open(src, "w") as f:
            f.write('#include <stdio.h>\nint main(void) { puts("ran"); return 0; }\n')
        c = subprocess.run([CC, "-static", "-o", exe, src], capture_output=True, text=True)
        expect_eq(c.returncode, 0, f"cc -static (libc.a is in libc6-dev): {c.stderr}")
        p = cli("run", "--", exe, env=run_env())
        expect_fails_closed(p, rf"cannot preload the library into {re.escape(exe)}: .* is statically linked",
                            "a static program")
        p = cli("run", "--", script(d, f"#!{exe}\n"), env=run_env())
        expect_fails_closed(p, rf"{re.escape(exe)} is statically linked", "a script run by a static program")


@test
def run_fails_closed_for_another_machine():
    with tempfile.TemporaryDirectory() as d:
        exe = program_copy(d)
        with open(exe, "r+b") as f:
            f.seek(18)  # e_machine
            native = int.from_bytes(f.read(2), "little")
            other, name = (183, "aarch64") if native == 62 else (62, "x86-64")
            f.seek(18)
            f.write(other.to_bytes(2, "little"))
        p = cli("run", "--", exe, env=run_env())
        expect_fails_closed(p, rf"{re.escape(exe)} is a program for {name}, and the library is for ",
                            "another machine")


@test
def run_fails_closed_for_a_missing_dynamic_linker():
    with tempfile.TemporaryDirectory() as d:
        exe = program_copy(d)
        with open(exe, "rb") as f:
            data = f.read()
        interp = re.search(rb"/[\w/.-]*/ld-linux[\w.-]*\0", data)
        expect(interp, "the program's PT_INTERP")
        missing = interp.group(0).replace(b"ld-linux", b"ld-absnt")
        with open(exe, "wb") as f:
            f.write(data.replace(interp.group(0), missing))
        p = cli("run", "--", exe, env=run_env())
        expect_fails_closed(p, rf"needs the dynamic linker {re.escape(missing[:-1].decode())}, which is missing",
                            "a missing dynamic linker")
        p = cli("run", "--", script(d, "#!/nonexistent/sh\necho ran\n"), env=run_env())
        expect_fails_closed(p, r"needs /nonexistent/sh \(No such file or directory\)", "a missing interpreter")


@test
def run_fails_closed_for_a_set_user_id_program():
    with tempfile.TemporaryDirectory() as d:
        if os.getuid() == 0:
            exe = program_copy(d)
            os.chown(exe, 65534, 65534)
            os.chmod(exe, 0o4755)
        else:  # a set-user-ID program owned by root, as every system has
            exe = next(p for p in ("/usr/bin/passwd", "/bin/su", "/usr/bin/su", "/usr/bin/mount")
                       if os.path.exists(p) and os.stat(p).st_mode & stat.S_ISUID)
        p = cli("run", "--", exe, env=run_env())
        expect_fails_closed(p, r"is set-user-ID, set-group-ID or has file capabilities: the dynamic linker "
                               r"ignores LD_PRELOAD for it", "a set-user-ID program")


@test
def run_merges_every_o_in_order_and_t_sets_the_deadline():
    env = run_env()
    env["THREADLEAK_OPTIONS"] = "format=text"
    if natively("the options a program run gets", HOST_PROGRAM):
        p = cli("run", "-o", "format=json", "-t", "90s", "-o", "at_exit=0:grace_ms=5", "--",
                "sh", "-c", 'printf %s "$THREADLEAK_OPTIONS"', env=env)
        expect_eq((p.returncode, p.stdout),
                  (0, "format=text:format=json:deadline=90s:at_exit=0:grace_ms=5"),
                  f"THREADLEAK_OPTIONS: {p.stderr}")
    p = cli("run", "-t", "ten", "--", "true", env=env)
    expect_eq((p.returncode, p.stderr), (125, "threadleak run: -t takes a duration such as 90, 90s, 500ms, "
                                              "5m or 1h, not 'ten' (see `threadleak help run`)\n"), "a bad -t")
    p = cli("run", "-x", "--", "true", env=env)
    expect_eq((p.returncode, p.stderr), (125, "threadleak run: unknown option '-x' (see `threadleak help run`)\n"),
              "an unknown option")


@test
def every_command_has_help_and_version():
    top = cli("--help")
    expect_eq(top.returncode, 0, "--help")
    expect(top.stdout.startswith("usage: threadleak run [-o OPTIONS]... [-t DURATION] -- PROGRAM [ARG...]\n"
                                 "       threadleak dump [-f FORMAT] [-t SECONDS] PID\n"
                                 "       threadleak top [-n SECONDS] PID\n"
                                 "       threadleak help [COMMAND]\n"), top.stdout)
    expect_eq([cli("-h").stdout, cli("help").stdout], [top.stdout] * 2, "-h and help")
    for cmd in ("run", "dump", "top"):
        answers = [cli(cmd, "--help"), cli(cmd, "-h"), cli("help", cmd)]
        expect_eq([a.returncode for a in answers], [0, 0, 0], f"{cmd}: statuses")
        expect_eq(len({a.stdout for a in answers}), 1, f"{cmd}: the same help three ways")
        expect(answers[0].stdout.startswith(f"usage: threadleak {cmd} "), answers[0].stdout)
    expect("exits with status 125" in cli("help", "run").stdout, "run's help says when it fails closed")
    for args in (["--version"], ["run", "--version"], ["dump", "--version"], ["top", "--version"],
                 ["help", "--version"]):
        p = cli(*args)
        expect_eq((p.returncode, p.stdout), (0, "threadleak 0.2.0\n"), " ".join(args))
    for args in (["frobnicate"], ["help", "frobnicate"]):
        p = cli(*args)
        expect_eq((p.returncode, p.stderr), (2, "threadleak: unknown command 'frobnicate' (the commands are run, "
                                                "dump, top, help; see `threadleak --help`)\n"), " ".join(args))
    p = cli()
    expect_eq(p.returncode, 2, "no command")
    expect(p.stderr.startswith("threadleak: no command given\nusage: "), p.stderr)


@test
def man_page_is_installed_and_names_what_the_readme_names():
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["cmake", "--install", os.environ["TL_BUILD"], "--prefix", d], check=True,
                       capture_output=True)
        path = os.path.join(d, "share", "man", "man1", "threadleak.1")
        expect(os.path.exists(path), "share/man/man1/threadleak.1 installed")
        with open(path) as f:
            page = f.read()
    expect(page.startswith(".TH THREADLEAK 1 "), page[:80])
    with open(os.path.join(SOURCE, "README.md")) as f:
        readme = f.read()
    options = re.search(r"^\| key \| values \| default \|.*?\n\n", readme, re.M | re.S).group(0)
    keys = re.findall(r"^\| `(\w+)` \|", options, re.M)
    expect(len(keys) >= 13, f"the README's options: {keys}")
    for key in keys:
        expect(re.search(rf"^\.B {key}\b|\\fB{key}\\fR", page, re.M), f"the man page describes option {key}")
    for word in ("threadleak run", "threadleak dump", "threadleak help", "124", "125", "THREADLEAK_OPTIONS",
                 "SIGUSR1", "LD_PRELOAD"):
        expect(word in page.replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", ""),
               f"the man page says {word}")
