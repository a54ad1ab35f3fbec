// Names in stacks: a std::thread blocked under frames named as C++, legacy Rust and v0 Rust name
// them. Its stack, innermost first: rust_v0 (demo::worker::serve), rust_legacy
// (demo::worker::wait, which libstdc++'s demangler would give with its hash), app::Pool::run(int);
// made by app::Pool::start().
#include <pthread.h>
#include <thread>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

extern "C" void rust_v0() __asm__("_RNvNtCs1234_4demo6worker5serve");
extern "C" void rust_legacy() __asm__("_ZN4demo6worker4wait17h0123456789abcdefE");

extern "C" void rust_v0()
{
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock);
}

extern "C" void rust_legacy()
{
    rust_v0();
}

namespace app
{
struct Pool {
    static void run(int depth);
    static void start();
};

void Pool::run(int depth)
{
    if (depth > 0)
        rust_legacy();
}

void Pool::start()
{
    std::thread(run, 1).detach();
}
} // namespace app

int main()
{
    app::Pool::start();
    usleep(50000);
    return 0;
}
