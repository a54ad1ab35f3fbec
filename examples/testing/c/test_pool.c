/* Plain C tests: snapshot before each test, threadleak_verify_none with it after. */
#include "../pool.h"

#include <stdio.h>
#include <threadleak.h>

static void test_clean(void)
{
    pool_stop(pool_start(2));
}

static void test_leaky(void)
{
    pool_start(2); /* BUG: never stopped */
}

static int run(const char *name, void (*test)(void))
{
    threadleak_snapshot *before = threadleak_snapshot_take();
    test();
    threadleak_opts opts = THREADLEAK_OPTS_INIT;
    opts.baseline = before;
    opts.timeout_ms = 200;
    int leaked = threadleak_verify_none(&opts);
    threadleak_snapshot_free(before);
    printf("%s %s\n", leaked ? "FAIL" : "PASS", name);
    return leaked != 0;
}

int main(void)
{
    int failed = run("test_clean", test_clean) + run("test_leaky", test_leaky);
    return failed ? 1 : 0;
}
