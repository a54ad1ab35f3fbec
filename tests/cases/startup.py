"""Start-up is safe wherever the program calls us first: inside its own allocator, before our
constructor, under other allocators."""
from harness import *  # noqa: F401,F403

ALLOCATORS = {"jemalloc": "libjemalloc.so.2", "tcmalloc": "libtcmalloc.so.4",
              "mimalloc": "libmimalloc.so.2"}


def shared_library(name):
    """The path of an installed shared library for the scenarios' architecture, where the compiler
    that built them finds it (the host's dynamic linker cache leaves a cross build's out), or
    None."""
    p = subprocess.run([CC, f"-print-file-name={name}"], capture_output=True, text=True)
    path = p.stdout.strip()
    return os.path.realpath(path) if os.path.isabs(path) else None


def expect_alive_report(rep, what):
    (g,) = rep["groups"]
    expect_eq((g["count"], g["state"], g["verdict"]), (3, "cond_wait", "blocked"), f"{what}: group")
    expect_eq(functions(g["created_at"])[:2], ["spawn_blocked", "main"], f"{what}: created_at")
    expect_eq(functions(g["blocked_at"])[0], "wait_forever", f"{what}: blocked_at")


@test
def a_program_whose_allocator_calls_prctl_under_its_lock_starts_and_is_reported():
    # chromium's allocator names its arena with prctl(PR_SET_VMA) holding its own spinlock, first
    # from .preinit_array: a library that starts up there and allocates spins for ever.
    if PRELOAD_FIRST:
        raise Skip("a sanitizer's runtime replaces malloc itself: a program that defines its own "
                   "cannot run under it, with or without threadleak")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "r.json")
        p = run("own_malloc", options=f"format=json:output={path}", timeout=30)
        expect_eq((p.returncode, p.stdout), (0, "main done\n"), f"status, output; {p.stderr}")
        with open(path) as f:
            rep = json.load(f)
    (g,) = rep["groups"]
    expect_eq((g["count"], functions(g["created_at"])[:2]), (1, ["start_leaked", "main"]), "leak")


def allocator_test(name):
    def check():
        if PRELOAD_FIRST:
            raise Skip("AddressSanitizer's allocator and another allocator cannot share a process")
        lib = shared_library(ALLOCATORS[name])
        if not lib:
            raise Skip(f"{ALLOCATORS[name]} is not installed (CI installs it)")
        for order in ([lib, LIB], [LIB, lib]):
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "r.json")
                env = preload_env(f"format=json:output={path}")
                env["LD_PRELOAD"] = ":".join(order)
                p = run_program([os.path.join(SCENARIOS, "alive"), "3"], env=env,
                                capture_output=True, text=True, timeout=30)
                what = f"LD_PRELOAD={env['LD_PRELOAD']}"
                expect_eq(p.returncode, 0, f"{what}: status; {p.stderr}")
                with open(path) as f:
                    expect_alive_report(json.load(f), what)
        rep, _ = report(f"alive_{name}", "3")
        expect_alive_report(rep, f"linked to {name}")
    check.__name__ = f"{name}_preloaded_before_or_after_or_linked_gets_the_right_report"
    return check


for _name in ALLOCATORS:
    globals()[f"_{_name}"] = test(allocator_test(_name))
