/* What each file descriptor is, as far as waits and resources go: its kind (pipe, socket, queue,
   other; blocking or not), and, for a pipe or queue the program made, the id its descriptors share
   and the stack that made it, a resource until its last descriptor is closed.

   One slot per descriptor, written with atomic stores, without locks or allocation: everything
   here is safe in a signal handler (pipe, close, dup2 are async-signal-safe, and so must their
   wrappers be) and in a fork child. */
#ifndef TL_CORE_FDTABLE_H
#define TL_CORE_FDTABLE_H

#include "core/stack.h"

enum { TL_FD_UNKNOWN, TL_FD_OTHER, TL_FD_PIPE, TL_FD_SOCKET, TL_FD_MQUEUE };
#define TL_FD_KIND 0x07     /* the kind's bits */
#define TL_FD_NONBLOCK 0x08 /* reads and writes never wait */

/* How a read or write on fd can wait: its kind, TL_FD_OTHER when it cannot (a regular file, a
   non-blocking descriptor, one past the table), or TL_FD_UNKNOWN for the first uses of a descriptor
   the library did not make: they are recorded as they come and the report learns the kind, so that
   a file opened, read and closed costs no system call more than without the library. */
unsigned tl_fd_waits(int fd);
unsigned tl_fd_kind(int fd); /* learns it now if need be (fstat, fcntl): for reports */

/* A fresh id for the descriptors of a pipe. */
uint32_t tl_fd_pipe_id(void);
/* A pipe end or queue the program made: a resource, with the id its descriptors share. */
void tl_fd_made(int fd, unsigned kind, uint32_t id, const tl_stack *made_at);
void tl_fd_closed(int fd);          /* also the descriptor a dup2 replaces */
void tl_fd_copied(int old, int fd); /* fd is now a copy of old (dup family) */
void tl_fd_flags_changed(int fd);   /* F_SETFL: O_NONBLOCK may have changed */
/* The wakers table's key for fd's pipe or queue (never an object's address), or 0. */
uintptr_t tl_fd_waker_key(int fd);

typedef struct tl_fd_resource {
    unsigned kind; /* TL_FD_PIPE or TL_FD_MQUEUE */
    uint32_t id;
    const tl_stack *made_at;
} tl_fd_resource;
/* The pipes and queues held open, one entry each however many descriptors hold it; malloc'd. */
size_t tl_fd_resources(tl_fd_resource **resources);
bool tl_fd_no_resources(void);

#endif
