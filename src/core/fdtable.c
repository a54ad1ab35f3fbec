/* What each file descriptor is, as far as waits go: a pipe, a socket, or anything else, and whether
   it blocks. Learnt the first time a descriptor is read or written (fstat, fcntl), kept in one byte
   per descriptor, forgotten when the descriptor is closed, replaced or its flags change, so that a
   read of a regular file costs one load. Descriptors past the table are never recorded. */
#include "core/fdtable.h"

#include "platform/platform.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define FD_TABLE (1u << 20)
static _Atomic unsigned char kinds[FD_TABLE];
/* What a pipe's or queue's descriptors share, for the wakers table: the pipe's serial number, the
   queue's inode. Only pages of descriptors in use are ever touched. */
static _Atomic uint32_t ids[FD_TABLE];

unsigned tl_fd_kind(int fd)
{
    if (fd < 0 || (unsigned)fd >= FD_TABLE)
        return TL_FD_OTHER;
    unsigned k = atomic_load_explicit(&kinds[fd], memory_order_relaxed);
    if (TL_LIKELY(k != TL_FD_UNKNOWN))
        return k;
    /* Raw system calls: fcntl is interposed, and errno is the program's. */
    struct stat st;
    int flags = (int)tl_sys(SYS_fcntl, fd, F_GETFL, 0, 0, 0, 0);
    if (flags < 0 || tl_sys(SYS_fstat, fd, (long)&st, 0, 0, 0, 0) != 0)
        k = TL_FD_OTHER;
    else if (S_ISFIFO(st.st_mode))
        k = TL_FD_PIPE;
    else if (S_ISSOCK(st.st_mode))
        k = TL_FD_SOCKET;
    else
        k = TL_FD_OTHER;
    if (k != TL_FD_OTHER && (flags & O_NONBLOCK))
        k |= TL_FD_NONBLOCK;
    /* A descriptor that fcntl refuses is not open: learn nothing about its number. */
    if (flags >= 0)
        atomic_store_explicit(&kinds[fd], (unsigned char)k, memory_order_relaxed);
    return k;
}

void tl_fd_set(int fd, unsigned kind)
{
    if (fd >= 0 && (unsigned)fd < FD_TABLE) {
        atomic_store_explicit(&kinds[fd], (unsigned char)kind, memory_order_relaxed);
        if (kind == TL_FD_UNKNOWN)
            atomic_store_explicit(&ids[fd], 0, memory_order_relaxed);
    }
}

void tl_fd_set_id(int fd, uint32_t id)
{
    if (fd >= 0 && (unsigned)fd < FD_TABLE)
        atomic_store_explicit(&ids[fd], id, memory_order_relaxed);
}

uintptr_t tl_fd_waker_key(int fd)
{
    if (fd < 0 || (unsigned)fd >= FD_TABLE)
        return 0;
    uint32_t id = atomic_load_explicit(&ids[fd], memory_order_relaxed);
    unsigned kind = atomic_load_explicit(&kinds[fd], memory_order_relaxed) & ~TL_FD_NONBLOCK;
    return tl_fd_key(kind, id);
}

uintptr_t tl_fd_key(unsigned kind, uint32_t id)
{
    /* odd keys: never the address of an object, which is aligned */
    return id ? ((uintptr_t)id << 3) | (kind == TL_FD_MQUEUE ? 3 : 1) : 0;
}
