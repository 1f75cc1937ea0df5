/*
 * c_epoll_echo: the practical limit of one epoll loop, the baseline keel's echo benchmark
 * compares against. One thread, level-triggered epoll, non-blocking sockets, TCP_NODELAY;
 * bytes the socket does not take are kept per connection and sent on EPOLLOUT.
 *
 *   c_epoll_echo PORT [BUSY_POLL_US]
 *
 * With BUSY_POLL_US > 0 the loop spins on epoll_wait(0) that long before blocking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define BUF_SIZE (64 * 1024)

struct conn {
    char *pending;
    size_t len, cap;
};

static struct conn *conns;
static int max_fds = 1 << 20;
static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void) sig; stop = 1; }

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void drop(int ep, int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(conns[fd].pending);
    memset(&conns[fd], 0, sizeof(conns[fd]));
}

static int keep(struct conn *c, const char *p, size_t n) {
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : BUF_SIZE;
        while (cap < c->len + n) cap *= 2;
        char *grown = realloc(c->pending, cap);
        if (!grown) return -1;
        c->pending = grown;
        c->cap = cap;
    }
    memcpy(c->pending + c->len, p, n);
    c->len += n;
    return 0;
}

static int flush_pending(int ep, int fd) {
    struct conn *c = &conns[fd];
    while (c->len > 0) {
        ssize_t w = write(fd, c->pending, c->len);
        if (w < 0) {
            if (errno == EAGAIN) return 0;
            return -1;
        }
        memmove(c->pending, c->pending + w, c->len - (size_t) w);
        c->len -= (size_t) w;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: c_epoll_echo PORT [BUSY_POLL_US]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    long long busy_ns = argc > 2 ? atoll(argv[2]) * 1000LL : 0;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    conns = calloc((size_t) max_fds, sizeof(*conns));

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short) port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *) &addr, sizeof(addr)) < 0 || listen(lfd, 4096) < 0) {
        perror("c_epoll_echo: bind/listen");
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    printf("c_epoll_echo listening on 127.0.0.1:%d\n", port);
    fflush(stdout);

    static char buf[BUF_SIZE];
    struct epoll_event events[MAX_EVENTS];
    while (!stop) {
        int n = 0;
        if (busy_ns > 0) {
            long long until = now_ns() + busy_ns;
            do {
                n = epoll_wait(ep, events, MAX_EVENTS, 0);
            } while (n == 0 && now_ns() < until && !stop);
        }
        if (n == 0) n = epoll_wait(ep, events, MAX_EVENTS, 500);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                for (;;) {
                    int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (c < 0) break;
                    if (c >= max_fds) { close(c); continue; }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
                continue;
            }
            if (events[i].events & EPOLLOUT) {
                if (flush_pending(ep, fd) < 0) { drop(ep, fd); continue; }
            }
            if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || conns[fd].len > 0) continue;
            ssize_t r = read(fd, buf, sizeof(buf));
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                drop(ep, fd);
                continue;
            }
            ssize_t w = write(fd, buf, (size_t) r);
            if (w < 0) {
                if (errno != EAGAIN) { drop(ep, fd); continue; }
                w = 0;
            }
            if (w < r) {
                if (keep(&conns[fd], buf + w, (size_t) (r - w)) < 0) { drop(ep, fd); continue; }
                struct epoll_event oev = {.events = EPOLLOUT, .data.fd = fd};
                epoll_ctl(ep, EPOLL_CTL_MOD, fd, &oev);
            }
        }
    }
    return 0;
}
