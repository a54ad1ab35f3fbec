/* The process's file mappings, for the symbolizer: the modules are the files mapped.

   /proc/self/maps lists every mapping, each thread's stack among them: with 10,000 threads it is
   20,000 lines the kernel formats for a few hundred, 8 ms of a first report. Since Linux 6.11 the
   PROCMAP_QUERY ioctl on the same file answers for the file-backed mappings alone. Older kernels,
   and an emulator (qemu-user fakes the file and knows no such ioctl), get the text read whole. */
#include "report/maps.h"

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The kernel's interface (uapi linux/fs.h), which the headers of older distributions lack. */
enum {
    QUERY_READABLE = 0x01,
    QUERY_WRITABLE = 0x02,
    QUERY_EXECUTABLE = 0x04,
    QUERY_SHARED = 0x08,
    QUERY_COVERING_OR_NEXT = 0x10,
    QUERY_FILE_BACKED = 0x20,
};

struct procmap_query {
    uint64_t size, query_flags, query_addr;
    uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
    uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
    uint64_t vma_name_addr, build_id_addr;
};
_Static_assert(sizeof(struct procmap_query) == 104, "the kernel's layout");

#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)

/* The file-backed mapping at or after addr (files), or the mapping at addr; false when there is
   none, or the kernel cannot say. */
static bool query(int fd, uint64_t addr, bool files, struct procmap_query *q, char *name)
{
    *q = (struct procmap_query){
        .size = sizeof *q,
        .query_flags = files ? QUERY_COVERING_OR_NEXT | QUERY_FILE_BACKED : 0,
        .query_addr = addr,
        .vma_name_size = PATH_MAX,
        .vma_name_addr = (uintptr_t)name,
    };
    return ioctl(fd, PROCMAP_QUERY, q) == 0;
}

static void put_line(FILE *out, const struct procmap_query *q, const char *name)
{
    fprintf(out, "%llx-%llx %c%c%c%c %08llx %02x:%02x %llu %s\n", (unsigned long long)q->vma_start,
            (unsigned long long)q->vma_end, q->vma_flags & QUERY_READABLE ? 'r' : '-',
            q->vma_flags & QUERY_WRITABLE ? 'w' : '-', q->vma_flags & QUERY_EXECUTABLE ? 'x' : '-',
            q->vma_flags & QUERY_SHARED ? 's' : 'p', (unsigned long long)q->vma_offset,
            q->dev_major, q->dev_minor, (unsigned long long)q->inode, name);
}

/* By the ioctl: every file-backed mapping in address order, then the vDSO's. */
static bool query_all(int fd, FILE *out)
{
    struct procmap_query q;
    char name[PATH_MAX];
    uint64_t addr = 0;
    unsigned n = 0;
    for (; query(fd, addr, true, &q, name); addr = q.vma_end, n++)
        put_line(out, &q, name);
    if (!n)
        return false; /* no such ioctl (ENOTTY), or refused: the text says as much */
    unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
    if (vdso && query(fd, vdso, false, &q, name) && strcmp(name, "[vdso]") == 0)
        put_line(out, &q, name);
    return true;
}

/* By the text: the lines that name a file, and the vDSO's. Closes fd. */
static bool read_all(int fd, FILE *out)
{
    char line[PATH_MAX + 128];
    FILE *maps = fdopen(fd, "r");
    if (!maps) {
        close(fd);
        return false;
    }
    while (fgets(line, sizeof line, maps))
        if (strchr(line, '/') || strstr(line, "[vdso]"))
            fputs(line, out);
    fclose(maps);
    return true;
}

/* /proc/thread-self/maps: once main has left with pthread_exit, the zombie leader's maps read
   empty. */
char *tl_maps_files(size_t *len)
{
    char *text = NULL;
    int fd = open("/proc/thread-self/maps", O_RDONLY | O_CLOEXEC);
    FILE *out = fd >= 0 ? open_memstream(&text, len) : NULL;
    bool read = false;
    if (!out) {
        if (fd >= 0)
            close(fd);
    } else if (query_all(fd, out)) {
        close(fd);
        read = true;
    } else {
        read = read_all(fd, out);
    }
    if (out && fclose(out) != 0)
        read = false;
    return read ? text : (free(text), NULL);
}
