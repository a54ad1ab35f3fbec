/* A shared library whose constructor starts a thread: the dynamic linker runs it before the
   preloaded threadleak's own constructor, so the wrapper must initialise the library itself. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static atomic_int started;

int early_lib_started(void)
{
    return atomic_load(&started);
}

static void *background_flusher(void *arg)
{
    atomic_store(&started, 1);
    for (;;)
        pause();
    return arg;
}

__attribute__((constructor)) static void early_constructor(void)
{
    pthread_t t;
    pthread_create(&t, NULL, background_flusher, NULL);
}
