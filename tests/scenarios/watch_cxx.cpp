// C++ threads for the metrics and `threadleak top`, which name a group by the program's own
// functions, past std::thread and std::condition_variable: 4 workers made by start_workers wait on
// a condition variable nobody notifies. Prints "ready PID", then runs until a line on stdin.
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>

static std::mutex lock;
// Never destroyed: glibc's pthread_cond_destroy, at exit, would wait for the waiters.
static std::condition_variable &never = *new std::condition_variable;

static void worker()
{
    std::unique_lock<std::mutex> held(lock);
    never.wait(held, [] { return false; }); // cxx-wait
}

static void start_workers()
{
    for (int i = 0; i < 4; i++)
        std::thread(worker).detach(); // cxx-site
}

int main()
{
    start_workers();
    std::printf("ready %d\n", (int)getpid());
    std::fflush(stdout);
    std::string line;
    std::getline(std::cin, line);
    return 0;
}
