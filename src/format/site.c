/* A stack named by one frame, where a list of many groups has room for one: the first frame of the
   program's own code, above the C and C++ runtimes it calls through. */
#include "format/format.h"

#include <stdio.h>
#include <string.h>

/* Whether file is a system header: in /usr/include/, or in a cross toolchain's
   /usr/TRIPLET/include/ (Debian's aarch64-linux-gnu-g++ puts the C++ library's there). */
static bool system_header(const char *file)
{
    if (!file || strncmp(file, "/usr/", 5) != 0)
        return false;
    const char *rest = file + 5, *slash = strchr(rest, '/');
    if (strncmp(rest, "include/", 8) == 0)
        return true;
    return slash && slash > rest && strncmp(slash, "/include/", 9) == 0;
}

/* The runtimes a thread is made or waits through: libc (libpthread before glibc 2.34), the C++
   libraries (std::thread, std::condition_variable), and the sanitizers' interceptors. */
static bool runtime(const tl_frame *f)
{
    static const char *const modules[] = {"libc.so",    "libpthread.so", "libstdc++.so",
                                          "libc++.so",  "libc++abi.so",  "libgcc_s.so",
                                          "libasan.so", "libtsan.so",    "libubsan.so"};
    /* A C++ library template inlined into the program (std::thread's constructor) is the
       runtime's too: its lines are in a system header. */
    if (system_header(f->file))
        return true;
    const char *base = f->module ? strrchr(f->module, '/') : NULL;
    base = base ? base + 1 : f->module;
    for (size_t i = 0; base && i < TL_LENGTH(modules); i++)
        if (strncmp(base, modules[i], strlen(modules[i])) == 0)
            return true;
    return false;
}

const tl_frame *tl_site_frame(tl_report *r, const tl_stack *s)
{
    const tl_frame *first = NULL;
    for (unsigned i = 0; s && i < s->depth; i++) {
        unsigned n;
        const tl_frame *f = tl_report_frames(r, s->pc[i], &n);
        for (unsigned j = 0; j < n; j++)
            if (!runtime(&f[j]))
                return &f[j];
        first = first ? first : f;
    }
    return first;
}

void tl_site_name(tl_report *r, const tl_stack *s, char *buf, size_t len)
{
    const tl_frame *f = tl_site_frame(r, s);
    if (!f)
        snprintf(buf, len, "unknown");
    else if (f->file)
        snprintf(buf, len, "%s %s:%u", f->function, f->file, f->line);
    else
        snprintf(buf, len, "%s", f->function);
}
