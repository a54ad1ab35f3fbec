/* Wrappers of waits on descriptors: pipes, sockets, the poll family, and the calls that make, copy
   and close descriptors, which keep fdtable.c right. A read or write on anything but a blocking pipe
   or socket, a poll that does not wait, or a call flagged MSG_DONTWAIT, stays a plain call. */
#include "interpose.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>

static inline tl_state io_state(int fd, tl_state on_pipe, tl_state on_socket)
{
    unsigned kind = tl_fd_kind(fd);
    return kind == TL_FD_PIPE ? on_pipe : kind == TL_FD_SOCKET ? on_socket : TL_RUNNING;
}

/* state is TL_RUNNING when the call cannot wait for long: then it is made plainly. */
#define FD_CALL(fd, state, call)                                                                  \
    do {                                                                                          \
        TL_ENTER(call);                                                                           \
        tl_state state_ = (state);                                                                \
        if (TL_LIKELY(state_ == TL_RUNNING))                                                      \
            return call;                                                                          \
        return TL_WAIT(state_, TL_OBJ_FD, fd, call);                                              \
    } while (0)

#define READING(fd) io_state(fd, TL_PIPE_READ, TL_SOCKET_READ)
#define ON_SOCKET(fd, flags, state) \
    ((flags) & MSG_DONTWAIT ? TL_RUNNING : io_state(fd, TL_RUNNING, state))

TL_API ssize_t read(int fd, void *buf, size_t n)
{
    FD_CALL(fd, READING(fd), real.read(fd, buf, n));
}

TL_API ssize_t readv(int fd, const struct iovec *iov, int n)
{
    FD_CALL(fd, READING(fd), real.readv(fd, iov, n));
}

/* A write to a pipe wakes its readers: noted for the verdicts. */
static inline tl_state writing(int fd)
{
    tl_state state = io_state(fd, TL_PIPE_WRITE, TL_SOCKET_WRITE);
    if (state == TL_PIPE_WRITE) {
        uintptr_t key = tl_fd_waker_key(fd);
        if (key)
            tl_waker_note(key);
    }
    return state;
}

TL_API ssize_t write(int fd, const void *buf, size_t n)
{
    FD_CALL(fd, writing(fd), real.write(fd, buf, n));
}

TL_API ssize_t writev(int fd, const struct iovec *iov, int n)
{
    FD_CALL(fd, writing(fd), real.writev(fd, iov, n));
}

TL_API ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    FD_CALL(fd, ON_SOCKET(fd, flags, TL_SOCKET_READ), real.recv(fd, buf, n, flags));
}

TL_API ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
                        socklen_t *len)
{
    FD_CALL(fd, ON_SOCKET(fd, flags, TL_SOCKET_READ), real.recvfrom(fd, buf, n, flags, addr, len));
}

TL_API ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    FD_CALL(fd, ON_SOCKET(fd, flags, TL_SOCKET_READ), real.recvmsg(fd, msg, flags));
}

TL_API ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    FD_CALL(fd, ON_SOCKET(fd, flags, TL_SOCKET_WRITE), real.send(fd, buf, n, flags));
}

TL_API ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
                      socklen_t len)
{
    FD_CALL(fd, ON_SOCKET(fd, flags, TL_SOCKET_WRITE), real.sendto(fd, buf, n, flags, addr, len));
}

TL_API ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    FD_CALL(fd, ON_SOCKET(fd, flags, TL_SOCKET_WRITE), real.sendmsg(fd, msg, flags));
}

TL_API int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    FD_CALL(fd, ON_SOCKET(fd, 0, TL_ACCEPT), real.accept(fd, addr, len));
}

TL_API int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    FD_CALL(fd, ON_SOCKET(fd, 0, TL_ACCEPT), real.accept4(fd, addr, len, flags));
}

/* Waiting for a connection to be made is waiting to write. */
TL_API int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    FD_CALL(fd, ON_SOCKET(fd, 0, TL_SOCKET_WRITE), real.connect(fd, addr, len));
}

/* ---- the poll family: the object is the first descriptor, or the epoll instance ---- */

#define POLL_CALL(waits, fd, call)                                                                \
    do {                                                                                          \
        TL_ENTER(call);                                                                           \
        if (!(waits))                                                                             \
            return call;                                                                          \
        return TL_WAIT(TL_POLL, (fd) >= 0 ? TL_OBJ_FD : TL_OBJ_NONE, fd, call);                   \
    } while (0)

static inline bool waits_for(const struct timespec *t)
{
    return !t || t->tv_sec || t->tv_nsec;
}

TL_API int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    POLL_CALL(timeout != 0, n ? fds[0].fd : -1, real.poll(fds, n, timeout));
}

TL_API int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask)
{
    POLL_CALL(waits_for(t), n ? fds[0].fd : -1, real.ppoll(fds, n, t, mask));
}

TL_API int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t)
{
    POLL_CALL(!t || t->tv_sec || t->tv_usec, -1, real.select(n, r, w, e, t));
}

TL_API int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t,
                   const sigset_t *mask)
{
    POLL_CALL(waits_for(t), -1, real.pselect(n, r, w, e, t, mask));
}

TL_API int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
    POLL_CALL(timeout != 0, epfd, real.epoll_wait(epfd, events, max, timeout));
}

TL_API int epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout,
                       const sigset_t *mask)
{
    POLL_CALL(timeout != 0, epfd, real.epoll_pwait(epfd, events, max, timeout, mask));
}

/* ---- making, copying and closing descriptors ---- */

static void pipe_made(const int fds[2], int flags)
{
    unsigned kind = TL_FD_PIPE | (flags & O_NONBLOCK ? TL_FD_NONBLOCK : 0);
    tl_fd_set(fds[0], kind);
    tl_fd_set(fds[1], kind);
    tl_guard++;
    unsigned serial = tl_resource_pipe(fds, tl_stack_capture());
    tl_guard--;
    tl_fd_set_id(fds[0], serial);
    tl_fd_set_id(fds[1], serial);
}

TL_API int pipe(int fds[2])
{
    TL_ENTER(real.pipe(fds));
    int rc = real.pipe(fds), saved = errno;
    if (rc == 0)
        pipe_made(fds, 0);
    errno = saved;
    return rc;
}

TL_API int pipe2(int fds[2], int flags)
{
    TL_ENTER(real.pipe2(fds, flags));
    int rc = real.pipe2(fds, flags), saved = errno;
    if (rc == 0)
        pipe_made(fds, flags);
    errno = saved;
    return rc;
}

/* Forgets what fd was: learnt again at its next use. A pipe end or queue leaves the resources.
   close and dup2 are async-signal-safe and called from signal handlers: the guard sends a
   handler's own close straight through, so it never waits on a lock this thread holds. */
static void forget(int fd)
{
    tl_guard++;
    tl_fd_set(fd, TL_FD_UNKNOWN);
    tl_resource_closed(fd);
    tl_guard--;
}

TL_API int close(int fd)
{
    TL_ENTER(real.close(fd));
    int rc = real.close(fd), saved = errno;
    if (rc == 0 || errno == EINTR) /* after EINTR the descriptor is closed all the same */
        forget(fd);
    errno = saved;
    return rc;
}

/* fd is now a copy of old: what it was is gone, and it holds old's pipe or queue open. */
static int copied(int old, int fd)
{
    if (fd >= 0 && fd != old) {
        int saved = errno;
        uintptr_t key = tl_fd_waker_key(old);
        forget(fd);
        if (key)
            tl_fd_set_id(fd, (uint32_t)(key >> 3));
        tl_guard++;
        tl_resource_dup(old, fd);
        tl_guard--;
        errno = saved;
    }
    return fd;
}

TL_API int dup(int old)
{
    TL_ENTER(real.dup(old));
    return copied(old, real.dup(old));
}

TL_API int dup2(int old, int fd)
{
    TL_ENTER(real.dup2(old, fd));
    return copied(old, real.dup2(old, fd));
}

TL_API int dup3(int old, int fd, int flags)
{
    TL_ENTER(real.dup3(old, fd, flags));
    return copied(old, real.dup3(old, fd, flags));
}

/* fcntl's third argument is an int or a pointer by command; glibc reads it as a pointer too. */
#define FCNTL_BODY(real_fn)                                                                       \
    va_list ap;                                                                                   \
    va_start(ap, cmd);                                                                            \
    void *arg = va_arg(ap, void *);                                                               \
    va_end(ap);                                                                                   \
    TL_ENTER(real_fn(fd, cmd, arg));                                                              \
    int rc = real_fn(fd, cmd, arg), saved = errno;                                                \
    if (cmd == F_SETFL && rc == 0)                                                                \
        tl_fd_set(fd, TL_FD_UNKNOWN); /* O_NONBLOCK may have changed */                           \
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)                                                 \
        copied(fd, rc);                                                                           \
    errno = saved;                                                                                \
    return rc

TL_API int fcntl(int fd, int cmd, ...)
{
    FCNTL_BODY(real.fcntl);
}

TL_API int fcntl64(int fd, int cmd, ...)
{
    FCNTL_BODY(real.fcntl64);
}
