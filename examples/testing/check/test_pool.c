#include "../pool.h"

#include <check.h>
#include <stdlib.h>
#include <threadleak.h>

/* Check forks a process per test, so each test starts with no thread but its own. */
#define ASSERT_NO_LEAKED_THREADS() \
    ck_assert_int_eq(threadleak_verify_none(&(threadleak_opts){.timeout_ms = 200}), 0)

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
