// C++ exceptions and cancellation through C++ frames must work as without the library: libunwind,
// which the library uses, defines the _Unwind_* ABI too and must not take over libgcc_s's.
#include <cstdio>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <unistd.h>

static int destroyed;
struct Guard {
    ~Guard()
    {
        destroyed++;
    }
};

static void *throws_and_catches(void *)
{
    for (int i = 0; i < 1000; i++) {
        try {
            Guard g;
            throw std::runtime_error("boom " + std::to_string(i));
        } catch (const std::exception &) {
        }
    }
    return nullptr;
}

static void *cancelled_in_cxx(void *)
{
    Guard g;
    for (;;)
        pause();
    return nullptr;
}

static void *exits_in_cxx(void *)
{
    Guard g;
    pthread_exit(nullptr);
}

int main()
{
    pthread_t a, b, c;
    pthread_create(&a, nullptr, throws_and_catches, nullptr);
    pthread_create(&b, nullptr, cancelled_in_cxx, nullptr);
    pthread_create(&c, nullptr, exits_in_cxx, nullptr);
    pthread_join(a, nullptr);
    usleep(20000);
    pthread_cancel(b);
    pthread_join(b, nullptr);
    pthread_join(c, nullptr);
    std::printf("destructors run: %d\n", destroyed);
    return destroyed == 1002 ? 0 : 1;
}
