#define _GNU_SOURCE
#include "CBulkheadShims.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <spawn.h>
#include <pthread.h>

const int BH_EPOLL_CTL_ADD = EPOLL_CTL_ADD;
const int BH_EPOLL_CTL_MOD = EPOLL_CTL_MOD;
const int BH_EPOLL_CTL_DEL = EPOLL_CTL_DEL;
const uint32_t BH_EPOLLIN = EPOLLIN;
const uint32_t BH_EPOLLOUT = EPOLLOUT;
const uint32_t BH_EPOLLERR = EPOLLERR;
const uint32_t BH_EPOLLHUP = EPOLLHUP;
const uint32_t BH_EPOLLRDHUP = EPOLLRDHUP;
const uint32_t BH_EPOLLET = EPOLLET;

int bh_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int bh_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

int bh_epoll_wait(int epfd, uint64_t *datas, uint32_t *events, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) { datas[i] = evs[i].data.u64; events[i] = evs[i].events; }
    return n;
}

int bh_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
int bh_eventfd_write(int fd) { uint64_t one = 1; return (int)write(fd, &one, sizeof one); }
int bh_eventfd_drain(int fd) { uint64_t v; return (int)read(fd, &v, sizeof v); }

int bh_timerfd_create(void) { return timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }
int bh_timerfd_arm(int fd, uint64_t deadline_ns) {
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    if (deadline_ns == 0) return timerfd_settime(fd, 0, &its, NULL);
    its.it_value.tv_sec = (time_t)(deadline_ns / 1000000000ull);
    its.it_value.tv_nsec = (long)(deadline_ns % 1000000000ull);
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
    return timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
}
int bh_timerfd_drain(int fd) { uint64_t v; return (int)read(fd, &v, sizeof v); }

uint64_t bh_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int bh_accept(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }
int bh_socket_tcp(int family) {
    return socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}
int bh_set_reuseport(int fd) { int one = 1; return setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one); }
int bh_set_reuseaddr(int fd) { int one = 1; return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); }
int bh_set_nodelay(int fd) { int one = 1; return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); }

static int fill_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len) {
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET; a4->sin_port = htons((uint16_t)port); *len = sizeof *a4; return AF_INET;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6; a6->sin6_port = htons((uint16_t)port); *len = sizeof *a6; return AF_INET6;
    }
    return -1;
}

int bh_bind_listen(int fd, const char *host, int port, int backlog) {
    struct sockaddr_storage ss; socklen_t len;
    if (fill_addr(host, port, &ss, &len) < 0) return -EINVAL;
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) return -errno;
    if (listen(fd, backlog) != 0) return -errno;
    return 0;
}

int bh_local_port(int fd) {
    struct sockaddr_storage ss; socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

int bh_connect(int fd, const char *host, int port) {
    struct sockaddr_storage ss; socklen_t len;
    if (fill_addr(host, port, &ss, &len) < 0) return -EINVAL;
    if (connect(fd, (struct sockaddr *)&ss, len) == 0) return 0;
    return -errno;
}

int bh_socket_error(int fd) {
    int err = 0; socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return errno;
    return err;
}

ssize_t bh_send(int fd, const void *buf, size_t len) { return send(fd, buf, len, MSG_NOSIGNAL); }

int bh_peer_address(int fd, char *buf, int buflen) {
    struct sockaddr_storage ss; socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) return -1;
    const void *src = ss.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
                                              : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
    if (!inet_ntop(ss.ss_family, src, buf, (socklen_t)buflen)) return -1;
    return (int)strlen(buf);
}

int bh_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int bh_set_thread_name(const char *name) {
    char short_name[16];
    strncpy(short_name, name, 15);
    short_name[15] = 0;
    return pthread_setname_np(pthread_self(), short_name);
}
