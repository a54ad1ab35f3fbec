// Inlined calls at -O2 (tests/CMakeLists.txt builds this one optimised): a thread blocks in a
// std::lock_guard over a mutex main holds, three calls of our own deep, all inlined into the one
// function the compiler kept. The report must show every level with its own line, as
// addr2line -i does.
#include <mutex>
#include <thread>
#include <unistd.h>

namespace app
{
std::mutex held;

static inline void take_lock()
{
    std::lock_guard<std::mutex> guard(held); // level-3
}

static inline void middle()
{
    take_lock(); // level-2
}

struct Worker {
    inline void step()
    {
        middle(); // level-1
    }
};

__attribute__((noinline)) void run()
{
    Worker w;
    w.step(); // level-0
    asm volatile("" ::: "memory");
}
} // namespace app

int main()
{
    app::held.lock();
    std::thread t(app::run);
    t.detach();
    usleep(50000);
    return 0;
}
