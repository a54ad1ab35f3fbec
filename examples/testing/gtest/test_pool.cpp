extern "C" {
#include "../pool.h"
}

#include <gtest/gtest.h>
#include <threadleak.h>

#include <cstdio>
#include <cstdlib>
#include <string>

// Snapshots the threads before each test and checks after it that no new one is left; a leak
// fails that test, with threadleak's report as the failure message.
class ThreadLeakListener : public testing::EmptyTestEventListener
{
    threadleak_snapshot *before_ = nullptr;

    void OnTestStart(const testing::TestInfo &) override
    {
        before_ = threadleak_snapshot_take();
    }

    void OnTestEnd(const testing::TestInfo &) override
    {
        char *report = nullptr;
        size_t len = 0;
        FILE *out = open_memstream(&report, &len);
        threadleak_opts opts = THREADLEAK_OPTS_INIT;
        opts.baseline = before_;
        opts.timeout_ms = 200;
        opts.out = out;
        int leaked = threadleak_verify_none(&opts);
        fclose(out);
        EXPECT_EQ(leaked, 0) << report;
        free(report);
        threadleak_snapshot_free(before_);
    }
};

TEST(Pool, StopsItsWorkers)
{
    pool_stop(pool_start(2));
}

TEST(Pool, ForgetsToStop)
{
    pool_start(2); /* BUG: never stopped */
}

int main(int argc, char **argv)
{
    testing::InitGoogleTest(&argc, argv);
    testing::UnitTest::GetInstance()->listeners().Append(new ThreadLeakListener);
    return RUN_ALL_TESTS();
}
