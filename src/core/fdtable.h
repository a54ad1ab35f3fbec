/* What each file descriptor is, as far as waits go. */
#ifndef TL_CORE_FDTABLE_H
#define TL_CORE_FDTABLE_H

#include "tl.h"

enum { TL_FD_UNKNOWN, TL_FD_OTHER, TL_FD_PIPE, TL_FD_SOCKET, TL_FD_MQUEUE, TL_FD_NONBLOCK = 0x10 };

unsigned tl_fd_kind(int fd);            /* learns it on first use */
void tl_fd_set(int fd, unsigned kind);  /* TL_FD_UNKNOWN to forget */
void tl_fd_set_id(int fd, uint32_t id); /* a pipe's serial, a queue's inode */
uintptr_t tl_fd_waker_key(int fd);      /* the wakers table's key for fd's pipe or queue, or 0 */
uintptr_t tl_fd_key(unsigned kind, uint32_t id); /* the same, from what it is and its id */

#endif
