#include "../pool.h"

#include <check.h>
#include <stdlib.h>
#include <threadleak.h>

/* Check forks a process per test, so each test starts with no thread but its own. */
static int leaked_threads(void)
{
    threadleak_opts opts = THREADLEAK_OPTS_INIT;
    opts.timeout_ms = 200;
    return threadleak_verify_none(&opts);
}
#define ASSERT_NO_LEAKED_THREADS() ck_assert_int_eq(leaked_threads(), 0)

START_TEST(test_clean)
{
    pool_stop(pool_start(2));
    ASSERT_NO_LEAKED_THREADS();
}
END_TEST

START_TEST(test_leaky)
{
    pool_start(2); /* BUG: never stopped */
    ASSERT_NO_LEAKED_THREADS();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("threads");
    tcase_add_test(tc, test_clean);
    tcase_add_test(tc, test_leaky);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
