/* Wrappers of waits on descriptors: pipes, sockets, the poll family, and the calls that make, copy
   and close descriptors, which keep the descriptor table right. A read or write on anything but a
   blocking pipe or socket, a poll that does not wait, or a call flagged MSG_DONTWAIT, stays a plain
   call: the state is TL_RUNNING then. Fortified programs (_FORTIFY_SOURCE) read, receive and poll
   through glibc's checked twins (__read_chk and the like, platform/glibc.h), wrapped alike. */
#include "interpose/interpose.h"

#include "core/fdtable.h"
#include "core/wakers.h"

#include <stdarg.h>

/* How a read or write on fd waits: the state, and in *object how its object is known; TL_RUNNING
   when it cannot wait (a regular file, a non-blocking descriptor). */
static inline tl_state io_state(int fd, bool out, tl_object_kind *object)
{
    *object = TL_OBJ_FD;
    if (tl_bypass())
        return TL_RUNNING;
    switch (tl_fd_waits(fd)) {
    case TL_FD_PIPE: return out ? TL_PIPE_WRITE : TL_PIPE_READ;
    case TL_FD_SOCKET: return out ? TL_SOCKET_WRITE : TL_SOCKET_READ;
    case TL_FD_UNKNOWN: *object = TL_OBJ_FD_UNLEARNT; return out ? TL_PIPE_WRITE : TL_PIPE_READ;
    default: return TL_RUNNING;
    }
}

/* A write to a pipe the program made wakes its readers: noted for the verdicts. */
static inline tl_state writing(int fd, tl_object_kind *object)
{
    tl_state state = io_state(fd, true, object);
    uintptr_t key;
    if (state == TL_PIPE_WRITE && *object == TL_OBJ_FD && (key = tl_fd_waker_key(fd)))
        tl_waker_note(key);
    return state;
}

/* The socket calls: a socket (the call fails on anything else), which waits unless flagged or
   non-blocking. */
static inline tl_state on_socket(int fd, int flags, tl_state state)
{
    return tl_bypass() || (flags & MSG_DONTWAIT) || tl_fd_waits(fd) == TL_FD_OTHER ? TL_RUNNING
                                                                                   : state;
}

TL_API ssize_t read(int fd, void *buf, size_t n)
{
    tl_object_kind object;
    tl_state state = io_state(fd, false, &object);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(read)(fd, buf, n);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, object, (uintptr_t)fd);
    return REAL(read)(fd, buf, n);
}

/* _FORTIFY_SOURCE's read: checks the buffer's size, then reads past any interposer. */
TL_API ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    tl_object_kind object;
    tl_state state = io_state(fd, false, &object);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(__read_chk)(fd, buf, n, buflen);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, object, (uintptr_t)fd);
    return REAL(__read_chk)(fd, buf, n, buflen);
}

TL_API ssize_t readv(int fd, const struct iovec *iov, int n)
{
    tl_object_kind object;
    tl_state state = io_state(fd, false, &object);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(readv)(fd, iov, n);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, object, (uintptr_t)fd);
    return REAL(readv)(fd, iov, n);
}

TL_API ssize_t write(int fd, const void *buf, size_t n)
{
    tl_object_kind object;
    tl_state state = writing(fd, &object);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(write)(fd, buf, n);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, object, (uintptr_t)fd);
    return REAL(write)(fd, buf, n);
}

TL_API ssize_t writev(int fd, const struct iovec *iov, int n)
{
    tl_object_kind object;
    tl_state state = writing(fd, &object);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(writev)(fd, iov, n);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, object, (uintptr_t)fd);
    return REAL(writev)(fd, iov, n);
}

TL_API ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    tl_state state = on_socket(fd, flags, TL_SOCKET_READ);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(recv)(fd, buf, n, flags);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, TL_OBJ_FD, (uintptr_t)fd);
    return REAL(recv)(fd, buf, n, flags);
}

TL_API ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    tl_state state = on_socket(fd, flags, TL_SOCKET_READ);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(__recv_chk)(fd, buf, n, buflen, flags);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, TL_OBJ_FD, (uintptr_t)fd);
    return REAL(__recv_chk)(fd, buf, n, buflen, flags);
}

TL_API ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
                        socklen_t *len)
{
    tl_state state = on_socket(fd, flags, TL_SOCKET_READ);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(recvfrom)(fd, buf, n, flags, addr, len);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, TL_OBJ_FD, (uintptr_t)fd);
    return REAL(recvfrom)(fd, buf, n, flags, addr, len);
}

TL_API ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
                              struct sockaddr *addr, socklen_t *len)
{
    tl_state state = on_socket(fd, flags, TL_SOCKET_READ);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(__recvfrom_chk)(fd, buf, n, buflen, flags, addr, len);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, TL_OBJ_FD, (uintptr_t)fd);
    return REAL(__recvfrom_chk)(fd, buf, n, buflen, flags, addr, len);
}

TL_API ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    tl_state state = on_socket(fd, flags, TL_SOCKET_READ);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(recvmsg)(fd, msg, flags);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, TL_OBJ_FD, (uintptr_t)fd);
    return REAL(recvmsg)(fd, msg, flags);
}

TL_API ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    tl_state state = on_socket(fd, flags, TL_SOCKET_WRITE);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(send)(fd, buf, n, flags);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, TL_OBJ_FD, (uintptr_t)fd);
    return REAL(send)(fd, buf, n, flags);
}

TL_API ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
                      socklen_t len)
{
    tl_state state = on_socket(fd, flags, TL_SOCKET_WRITE);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(sendto)(fd, buf, n, flags, addr, len);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, TL_OBJ_FD, (uintptr_t)fd);
    return REAL(sendto)(fd, buf, n, flags, addr, len);
}

TL_API ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    tl_state state = on_socket(fd, flags, TL_SOCKET_WRITE);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(sendmsg)(fd, msg, flags);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, TL_OBJ_FD, (uintptr_t)fd);
    return REAL(sendmsg)(fd, msg, flags);
}

TL_API int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    tl_state state = on_socket(fd, 0, TL_ACCEPT);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(accept)(fd, addr, len);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, TL_OBJ_FD, (uintptr_t)fd);
    return REAL(accept)(fd, addr, len);
}

TL_API int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    tl_state state = on_socket(fd, 0, TL_ACCEPT);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(accept4)(fd, addr, len, flags);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, TL_OBJ_FD, (uintptr_t)fd);
    return REAL(accept4)(fd, addr, len, flags);
}

/* Waiting for a connection to be made is waiting to write. */
TL_API int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    tl_state state = on_socket(fd, 0, TL_SOCKET_WRITE);
    if (TL_LIKELY(state == TL_RUNNING))
        return REAL(connect)(fd, addr, len);
    tl_wait_scope wait TL_WAIT_SCOPE;
    tl_wait_begin(&wait, state, TL_OBJ_FD, (uintptr_t)fd);
    return REAL(connect)(fd, addr, len);
}

/* ---- the poll family: the object is the first descriptor, or the epoll instance ---- */

static inline bool waits_for(const struct timespec *t)
{
    return !t || t->tv_sec || t->tv_nsec;
}

/* A poll's record: on its first descriptor (fd), or on none (fd < 0). */
static inline __attribute__((always_inline)) void poll_begin(tl_wait_scope *wait, int fd)
{
    tl_wait_begin(wait, TL_POLL, fd >= 0 ? TL_OBJ_FD : TL_OBJ_NONE, (uintptr_t)fd);
}

/* glibc declares poll's array write-only (for _FORTIFY_SOURCE), which it is not: the program fills
   in the descriptors, and GCC's warning that they may be uninitialised is wrong. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
static inline int first_fd(const struct pollfd *fds, nfds_t n)
{
    return n ? fds[0].fd : -1;
}
#pragma GCC diagnostic pop

TL_API int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (tl_bypass() || timeout == 0)
        return REAL(poll)(fds, n, timeout);
    tl_wait_scope wait TL_WAIT_SCOPE;
    poll_begin(&wait, first_fd(fds, n));
    return REAL(poll)(fds, n, timeout);
}

TL_API int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
    if (tl_bypass() || timeout == 0)
        return REAL(__poll_chk)(fds, n, timeout, fdslen);
    tl_wait_scope wait TL_WAIT_SCOPE;
    poll_begin(&wait, first_fd(fds, n));
    return REAL(__poll_chk)(fds, n, timeout, fdslen);
}

TL_API int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask)
{
    if (tl_bypass() || !waits_for(t))
        return REAL(ppoll)(fds, n, t, mask);
    tl_wait_scope wait TL_WAIT_SCOPE;
    poll_begin(&wait, first_fd(fds, n));
    return REAL(ppoll)(fds, n, t, mask);
}

TL_API int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask,
                       size_t fdslen)
{
    if (tl_bypass() || !waits_for(t))
        return REAL(__ppoll_chk)(fds, n, t, mask, fdslen);
    tl_wait_scope wait TL_WAIT_SCOPE;
    poll_begin(&wait, first_fd(fds, n));
    return REAL(__ppoll_chk)(fds, n, t, mask, fdslen);
}

TL_API int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t)
{
    if (tl_bypass() || (t && !t->tv_sec && !t->tv_usec))
        return REAL(select)(n, r, w, e, t);
    tl_wait_scope wait TL_WAIT_SCOPE;
    poll_begin(&wait, -1);
    return REAL(select)(n, r, w, e, t);
}

TL_API int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t,
                   const sigset_t *mask)
{
    if (tl_bypass() || !waits_for(t))
        return REAL(pselect)(n, r, w, e, t, mask);
    tl_wait_scope wait TL_WAIT_SCOPE;
    poll_begin(&wait, -1);
    return REAL(pselect)(n, r, w, e, t, mask);
}

TL_API int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
    if (tl_bypass() || timeout == 0)
        return REAL(epoll_wait)(epfd, events, max, timeout);
    tl_wait_scope wait TL_WAIT_SCOPE;
    poll_begin(&wait, epfd);
    return REAL(epoll_wait)(epfd, events, max, timeout);
}

TL_API int epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout,
                       const sigset_t *mask)
{
    if (tl_bypass() || timeout == 0)
        return REAL(epoll_pwait)(epfd, events, max, timeout, mask);
    tl_wait_scope wait TL_WAIT_SCOPE;
    poll_begin(&wait, epfd);
    return REAL(epoll_pwait)(epfd, events, max, timeout, mask);
}

TL_API int epoll_pwait2(int epfd, struct epoll_event *events, int max, const struct timespec *t,
                        const sigset_t *mask)
{
    if (tl_bypass() || !waits_for(t))
        return REAL(epoll_pwait2)(epfd, events, max, t, mask);
    tl_wait_scope wait TL_WAIT_SCOPE;
    poll_begin(&wait, epfd);
    return REAL(epoll_pwait2)(epfd, events, max, t, mask);
}

/* ---- making, copying and closing descriptors ---- */

/* A pipe: both ends known, one resource with the stack that made it. Async-signal-safe, as pipe
   and pipe2 are. */
static void pipe_made(const int fds[2], int flags, uintptr_t caller)
{
    TL_KEEP_ERRNO;
    unsigned kind = TL_FD_PIPE | (flags & O_NONBLOCK ? TL_FD_NONBLOCK : 0);
    uint32_t id = tl_fd_pipe_id();
    tl_guard++;
    const tl_stack *made_at = tl_stack_capture(caller);
    tl_guard--;
    tl_fd_made(fds[0], kind, id, made_at);
    tl_fd_made(fds[1], kind, id, made_at);
}

TL_API int pipe(int fds[2])
{
    int rc = REAL(pipe)(fds);
    if (!tl_bypass() && rc == 0)
        pipe_made(fds, 0, (uintptr_t)__builtin_return_address(0));
    return rc;
}

TL_API int pipe2(int fds[2], int flags)
{
    int rc = REAL(pipe2)(fds, flags);
    if (!tl_bypass() && rc == 0)
        pipe_made(fds, flags, (uintptr_t)__builtin_return_address(0));
    return rc;
}

/* close and the dup family are async-signal-safe and called from signal handlers: what they note
   in the descriptor table takes no lock and allocates nothing. */
TL_API int close(int fd)
{
    int rc = REAL(close)(fd);
    if (!tl_bypass() && (rc == 0 || errno == EINTR)) /* after EINTR the descriptor is closed */
        tl_fd_closed(fd);
    return rc;
}

/* fd is now a copy of old: what it was is gone, and it holds old's pipe or queue open. */
static int copied(int old, int fd)
{
    if (!tl_bypass() && fd >= 0)
        tl_fd_copied(old, fd);
    return fd;
}

TL_API int dup(int old)
{
    return copied(old, REAL(dup)(old));
}

TL_API int dup2(int old, int fd)
{
    return copied(old, REAL(dup2)(old, fd));
}

TL_API int dup3(int old, int fd, int flags)
{
    return copied(old, REAL(dup3)(old, fd, flags));
}

/* fcntl's third argument is an int or a pointer by command; glibc reads it as a pointer too. */
static int fcntl_done(int fd, int cmd, int rc)
{
    if (tl_bypass())
        return rc;
    if (cmd == F_SETFL && rc == 0)
        tl_fd_flags_changed(fd);
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        copied(fd, rc);
    return rc;
}

TL_API int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_done(fd, cmd, REAL(fcntl)(fd, cmd, arg));
}

TL_API int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_done(fd, cmd, REAL(fcntl64)(fd, cmd, arg));
}
