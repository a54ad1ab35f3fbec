/* A thread that waits under code made at run time, as a JIT makes it, and named as runtimes name
   it: a line in /tmp/perf-PID.map (the test removes the file). jit [no-map] */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* call(fn, arg): calls fn(arg) in a frame of its own, with a frame pointer. */
#if defined(__x86_64__)
static const uint8_t call[] = {
    0x55,             /* push %rbp */
    0x48, 0x89, 0xe5, /* mov %rsp,%rbp */
    0x48, 0x89, 0xf8, /* mov %rdi,%rax */
    0x48, 0x89, 0xf7, /* mov %rsi,%rdi */
    0xff, 0xd0,       /* call *%rax */
    0x5d,             /* pop %rbp */
    0xc3,             /* ret */
};
#elif defined(__aarch64__)
static const uint32_t call[] = {
    0xa9bf7bfd, /* stp x29, x30, [sp, #-16]! */
    0x910003fd, /* mov x29, sp */
    0xaa0003f0, /* mov x16, x0 */
    0xaa0103e0, /* mov x0, x1 */
    0xd63f0200, /* blr x16 */
    0xa8c17bfd, /* ldp x29, x30, [sp], #16 */
    0xd65f03c0, /* ret */
};
#else
#error "no JIT code for this architecture"
#endif

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static void *(*jitted)(void *(*fn)(void *), void *arg);

static void *wait_forever(void *arg)
{
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock);
    return arg;
}

static void *run_script(void *arg)
{
    return jitted(wait_forever, arg);
}

int main(int argc, char **argv)
{
    void *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED)
        abort();
    memcpy(code, call, sizeof call);
    __builtin___clear_cache((char *)code, (char *)code + sizeof call);
    if (mprotect(code, 4096, PROT_READ | PROT_EXEC) != 0)
        abort();
    *(void **)&jitted = code;
    if (argc < 2) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
        FILE *map = fopen(path, "w");
        if (!map)
            abort();
        /* an older line for the same code, then the one that wins */
        fprintf(map, "%lx %zx LazyCompile:~stale script.js:1\n", (unsigned long)code, sizeof call);
        fprintf(map, "%lx %zx LazyCompile:*runScript script.js:3\n", (unsigned long)code,
                sizeof call);
        fclose(map);
    }
    pthread_t t;
    if (pthread_create(&t, NULL, run_script, NULL) != 0)
        abort();
    usleep(50000);
    printf("pid %d\n", (int)getpid());
    fflush(stdout);
    return 0;
}
