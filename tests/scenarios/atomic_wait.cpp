// C++20's std::atomic<int>::wait, which libstdc++ makes with syscall(SYS_futex): a std::thread
// made by start_waiter blocks for ever in wait_for_flag; another notifies it once and ends.
#include <atomic>
#include <chrono>
#include <thread>

static std::atomic<int> flag{0};

static void wait_for_flag()
{
    for (;;)
        flag.wait(0);
}

static void start_waiter()
{
    std::thread(wait_for_flag).detach();
}

int main()
{
    start_waiter();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::thread([] { flag.notify_all(); }).join();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return 0;
}
