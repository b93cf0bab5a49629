#ifndef CBULKHEAD_SHIMS_H
#define CBULKHEAD_SHIMS_H
// Linux interfaces Glibc's Swift module does not export, wrapped as plain functions
// so Swift never has to deal with packed structs or variadic calls.
#include <stdint.h>
#include <sys/types.h>
#include <spawn.h>

/// epoll: create, control (fd plus a 32-bit registration id packed into data.u64), wait.
int bh_epoll_create(void);
int bh_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
/// Waits; fills `datas` and `events` arrays (both of length `max`). Returns count or -1.
int bh_epoll_wait(int epfd, uint64_t *datas, uint32_t *events, int max, int timeout_ms);

extern const int BH_EPOLL_CTL_ADD;
extern const int BH_EPOLL_CTL_MOD;
extern const int BH_EPOLL_CTL_DEL;
extern const uint32_t BH_EPOLLIN;
extern const uint32_t BH_EPOLLOUT;
extern const uint32_t BH_EPOLLERR;
extern const uint32_t BH_EPOLLHUP;
extern const uint32_t BH_EPOLLRDHUP;
extern const uint32_t BH_EPOLLET;

/// eventfd (non-blocking, close-on-exec) and its read/write of one counter.
int bh_eventfd(void);
int bh_eventfd_write(int fd);
int bh_eventfd_drain(int fd);

/// timerfd on CLOCK_MONOTONIC; arm with an absolute deadline in nanoseconds (0 disarms).
int bh_timerfd_create(void);
int bh_timerfd_arm(int fd, uint64_t deadline_ns);
int bh_timerfd_drain(int fd);

/// Monotonic clock in nanoseconds.
uint64_t bh_monotonic_ns(void);

/// Sockets: non-blocking, close-on-exec.
int bh_accept(int fd);
int bh_socket_tcp(int family);
int bh_set_reuseport(int fd);
int bh_set_nodelay(int fd);
int bh_set_reuseaddr(int fd);
/// Binds and listens on an IPv4 or IPv6 literal; returns 0 or -errno.
int bh_bind_listen(int fd, const char *host, int port, int backlog);
/// Local port of a bound socket, or -1.
int bh_local_port(int fd);
/// Starts a non-blocking connect to an IP literal; returns 0, -EINPROGRESS or -errno.
int bh_connect(int fd, const char *host, int port);
/// Pending socket error (SO_ERROR).
int bh_socket_error(int fd);
/// send() with MSG_NOSIGNAL so a closed peer gives EPIPE, not SIGPIPE.
ssize_t bh_send(int fd, const void *buf, size_t len);
/// Peer address as text into buf; returns length or -1.
int bh_peer_address(int fd, char *buf, int buflen);

/// posix_spawn_file_actions_addchdir_np (a GNU extension Glibc's module hides).
int bh_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// Names the calling thread (Linux keeps the first 15 bytes); 0 on success.
int bh_set_thread_name(const char *name);

#endif
