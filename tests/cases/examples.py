"""The examples for test frameworks, and the installed package."""
from harness import *  # noqa: F401,F403

# A cross build builds the examples and the consumer with its own toolchain (and compiler, CC).
TOOLCHAIN = [f"-DCMAKE_TOOLCHAIN_FILE={os.environ['TL_TOOLCHAIN']}"] if EMULATOR else []


def build_example(d, name):
    """Installs threadleak under d and builds examples/testing/NAME against it; returns its build dir."""
    prefix, build = os.path.join(d, "prefix"), os.path.join(d, name)
    subprocess.run(["cmake", "--install", os.environ["TL_BUILD"], "--prefix", prefix], check=True,
                   capture_output=True)
    env = preload_env(preload=False)
    for step in [["cmake", "-S", os.path.join(SOURCE, "examples", "testing", name), "-B", build,
                  f"-DCMAKE_PREFIX_PATH={prefix}", *TOOLCHAIN], ["cmake", "--build", build]]:
        p = subprocess.run(step, env=env, capture_output=True, text=True)
        expect_eq(p.returncode, 0, f"{' '.join(step)}: {p.stdout}{p.stderr}")
    return build


def run_example(build, *cmd, at_exit=False, built=True):
    """Runs cmd in the example's build directory: a program it built, or (built=False) a tool."""
    env = preload_env(preload=False)
    if not at_exit:  # the test executables check for themselves
        env["THREADLEAK_OPTIONS"] = "at_exit=0"
    if PRELOAD_FIRST:
        env["LD_PRELOAD"] = PRELOAD_FIRST
    if not built:
        return subprocess.run(cmd, cwd=build, env=env, capture_output=True, text=True,
                              timeout=seconds(120))
    return run_program(cmd, cwd=build, env=env, capture_output=True, text=True)


def failing_example(name, *cmd, at_exit=False, built=True):
    """Builds examples/testing/NAME, runs cmd there; the suite must fail. Returns all it printed."""
    with tempfile.TemporaryDirectory() as d:
        p = run_example(build_example(d, name), *cmd, at_exit=at_exit, built=built)
    out = p.stdout + p.stderr
    expect(p.returncode != 0, f"the {name} suite fails:\n{out}")
    return out


def names_the_leak(text):
    expect(re.search(r"#\d+\s+pool_worker\s", text), f"the blocked-at function:\n{text}")
    expect(re.search(r"#\d+\s+pool_start\s.*\n\s+#\d+\s+test_leaky|ForgetsToStop", text),
           f"the creating function and the leaky test:\n{text}")


@test
def example_plain_c_test_fails_only_the_leaky_test():
    with tempfile.TemporaryDirectory() as d:
        p = run_example(build_example(d, "c"), "./test_pool")
    expect_eq((p.returncode, p.stdout), (1, "PASS test_clean\nFAIL test_leaky\n"), "results")
    names_the_leak(p.stderr)


@test
def example_cmocka_test_fails_only_the_leaky_test():
    out = failing_example("cmocka", "./test_pool")
    expect(re.search(r"\[\s+OK\s+\] test_clean", out), out)
    # cmocka calls a failed teardown an error of its test
    expect(re.search(r"\[\s+(FAILED|ERROR)\s+\] test_leaky", out), out)
    expect(not re.search(r"\[\s+(FAILED|ERROR)\s+\] test_clean", out), out)
    names_the_leak(out)


@test
def example_check_test_fails_only_the_leaky_test():
    out = failing_example("check", "./test_pool")
    expect("Checks: 2, Failures: 1, Errors: 0" in out, out)
    expect(re.search(r":F:threads:test_leaky:", out), out)
    names_the_leak(out)


@test
def example_gtest_listener_fails_only_the_leaky_test():
    out = failing_example("gtest", "./test_pool")
    expect("[       OK ] Pool.StopsItsWorkers" in out, out)
    expect("[  FAILED  ] Pool.ForgetsToStop" in out, out)
    expect("1 FAILED TEST" in out, out)
    names_the_leak(out)


@test
def example_ctest_suite_fails_only_the_leaky_test():
    skip_unless_exec_of_built_programs("its tests are `threadleak run -- pool_leaky`")
    out = failing_example("ctest", "ctest", "--output-on-failure", at_exit=True, built=False)
    expect(re.search(r"pool_clean \.+\s+Passed", out), out)
    expect(re.search(r"pool_leaky \.+\*+Failed", out), out)
    expect(re.search(r"#\d+\s+pool_start\s.*\n\s+#\d+\s+main\s", out), out)


@test
def example_ctest_deadline_reports_a_hung_test_before_its_timeout():
    skip_unless_exec_of_built_programs("its test is `threadleak run -t 3s -- pool_hangs`")
    with tempfile.TemporaryDirectory() as d:
        p = run_example(build_example(d, "deadline"), "ctest", "--output-on-failure", at_exit=True)
        out = p.stdout + p.stderr
    expect(p.returncode != 0, f"the hung test fails:\n{out}")
    failed = re.search(r"pool_hangs \.+\*+Failed\s+([\d.]+) sec", out)
    expect(failed, f"failed at its deadline, not timed out:\n{out}")
    expect(3 <= float(failed.group(1)) < 10, f"ended by its 3 s deadline, before its 10 s TIMEOUT:\n{out}")
    expect(re.search(r"threadleak: 2 leaked threads in 1 group at the deadline \(3\.0 s\)", out), out)
    # under ASan, its pthread_create interceptor is the first frame of the creation stack
    expect(re.search(r"#\d+\s+pool_worker\s.*\n(.*\n)*?\s+created by .*\n(\s+#\d+\s+\S*interceptor_pthread_create\s.*\n)?"
                     r"\s+#\d+\s+pool_start\s.*\n\s+#\d+\s+main\s", out),
           f"the workers and their creator:\n{out}")


@test
def installed_package_works_with_find_package_and_pkg_config():
    build = os.environ["TL_BUILD"]
    with tempfile.TemporaryDirectory() as d:
        prefix = os.path.join(d, "prefix")
        subprocess.run(["cmake", "--install", build, "--prefix", prefix], check=True,
                       capture_output=True)
        for path in ["lib/libthreadleak.so", "bin/threadleak", "include/threadleak.h",
                     "lib/pkgconfig/threadleak.pc", "lib/cmake/threadleak/threadleakConfig.cmake"]:
            expect(os.path.exists(os.path.join(prefix, path)), f"installed {path}")
        consumer = os.path.join(SOURCE, "tests", "consumer")
        env = preload_env(preload=False)
        env["PKG_CONFIG_PATH"] = f"{prefix}/lib/pkgconfig"
        run_env = dict(env)
        if PRELOAD_FIRST:  # an ASan-built library needs its runtime first, even when linked
            run_env["LD_PRELOAD"] = PRELOAD_FIRST
        steps = [["cmake", "-S", consumer, "-B", f"{d}/cm", f"-DCMAKE_PREFIX_PATH={prefix}",
                  "-DCMAKE_BUILD_TYPE=Debug", *TOOLCHAIN],
                 ["cmake", "--build", f"{d}/cm"]]
        for step in steps:
            p = subprocess.run(step, env=env, capture_output=True, text=True)
            expect_eq(p.returncode, 0, f"{' '.join(step)}: {p.stdout}{p.stderr}")
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "threadleak"], env=env,
                               capture_output=True, text=True, check=True).stdout.split()
        p = subprocess.run([CC, os.path.join(consumer, "consumer.c"), "-o", f"{d}/pc", "-g", "-pthread",
                            *flags], env=env, capture_output=True, text=True)
        expect_eq(p.returncode, 0, f"build with pkg-config: {p.stderr}")
        # an installed tool finds the installed library
        if natively("the installed tool's preload", HOST_PROGRAM):
            p = run_program([f"{prefix}/bin/threadleak", "run", "--", "sh", "-c", 'printf %s "$LD_PRELOAD"'],
                            env=run_env, capture_output=True, text=True)
            expect_eq(p.stdout.split(":")[-1], f"{os.path.realpath(prefix)}/lib/libthreadleak.so",
                      "run's preload")
        for exe in [f"{d}/cm/consumer", f"{d}/pc"]:
            p = run_program([exe], env=run_env, capture_output=True, text=True, timeout=60)
            expect_eq(p.returncode, 0, f"{exe} status")
            expect("built against threadleak 0.2.0" in p.stdout, p.stdout)
            expect(re.search(r"#\d\s+installed_leak\s+\S*consumer\.c:\d+", p.stderr),
                   f"{exe} report:\n{p.stderr}")
