#include "../pool.h"

/* cmocka needs these four before its header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <threadleak.h>

static int snapshot(void **state)
{
    *state = threadleak_snapshot_take();
    return 0;
}

/* Fails the test that leaked: a failing teardown fails its test in cmocka. */
static int no_leaked_threads(void **state)
{
    threadleak_opts opts = THREADLEAK_OPTS_INIT;
    opts.baseline = *state;
    opts.timeout_ms = 200;
    int leaked = threadleak_verify_none(&opts);
    threadleak_snapshot_free(*state);
    if (leaked)
        print_error("%d thread(s) leaked\n", leaked);
    return leaked ? -1 : 0;
}

static void test_clean(void **state)
{
    (void)state;
    pool_stop(pool_start(2));
}

static void test_leaky(void **state)
{
    (void)state;
    pool_start(2); /* BUG: never stopped */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean, snapshot, no_leaked_threads),
        cmocka_unit_test_setup_teardown(test_leaky, snapshot, no_leaked_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
