/*
 * c_uring_echo: a plain one-thread io_uring echo server, the C reference for keel's io_uring
 * transport (issue 4). No liburing, only <linux/io_uring.h>: multishot accept, then per
 * connection one recv into its own buffer, a send of what came (re-sent until all is taken),
 * and the next recv. The ring is SINGLE_ISSUER + DEFER_TASKRUN; the loop submits and waits for
 * completions in one io_uring_enter. Binds 127.0.0.1, TCP_NODELAY.
 *
 *   c_uring_echo PORT
 *
 * Exit status 1 when the kernel refuses io_uring (seccomp, io_uring_disabled) or a feature.
 */
#define _GNU_SOURCE
#include <linux/io_uring.h>
#include <stdio.h>

#if !defined(IORING_SETUP_DEFER_TASKRUN) || !defined(IORING_ACCEPT_MULTISHOT)
/* Kernel headers older than 6.1: build a stub so `make -C native` still succeeds everywhere. */
int main(void) {
    fprintf(stderr, "c_uring_echo: built against kernel headers without DEFER_TASKRUN / multishot accept\n");
    return 1;
}
#else
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RING_ENTRIES 4096
#define CQ_ENTRIES 32768 /* more than the connections that can each have one op in flight */
#define BUF_SIZE (64 * 1024)
#define MAX_FDS (1 << 16)

enum { OP_ACCEPT, OP_RECV, OP_SEND };

struct conn {
    char *buf;
    unsigned len, off; /* bytes received, bytes of them sent */
};

static struct conn conns[MAX_FDS];
static volatile sig_atomic_t stop;

static struct {
    int fd;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
    unsigned to_submit;
} ring;

static void on_signal(int sig) { (void) sig; stop = 1; }

static int enter(unsigned to_submit, unsigned min_complete, unsigned flags) {
    return (int) syscall(__NR_io_uring_enter, ring.fd, to_submit, min_complete, flags, NULL, 0);
}

static int setup(void) {
    struct io_uring_params p;
    memset(&p, 0, sizeof(p));
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    p.cq_entries = CQ_ENTRIES;
    ring.fd = (int) syscall(__NR_io_uring_setup, RING_ENTRIES, &p);
    if (ring.fd < 0) {
        perror("c_uring_echo: io_uring_setup");
        return -1;
    }
    if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
        fprintf(stderr, "c_uring_echo: kernel without IORING_FEAT_SINGLE_MMAP\n");
        return -1;
    }
    size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    size_t size = sq_size > cq_size ? sq_size : cq_size;
    char *rings = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring.fd, IORING_OFF_SQ_RING);
    ring.sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_POPULATE, ring.fd, IORING_OFF_SQES);
    if (rings == MAP_FAILED || ring.sqes == MAP_FAILED) {
        perror("c_uring_echo: mmap");
        return -1;
    }
    ring.sq_head = (unsigned *) (rings + p.sq_off.head);
    ring.sq_tail = (unsigned *) (rings + p.sq_off.tail);
    ring.sq_mask = (unsigned *) (rings + p.sq_off.ring_mask);
    ring.sq_array = (unsigned *) (rings + p.sq_off.array);
    ring.cq_head = (unsigned *) (rings + p.cq_off.head);
    ring.cq_tail = (unsigned *) (rings + p.cq_off.tail);
    ring.cq_mask = (unsigned *) (rings + p.cq_off.ring_mask);
    ring.cqes = (struct io_uring_cqe *) (rings + p.cq_off.cqes);
    return 0;
}

/* The next free SQE, zeroed; submits what is queued first when the SQ is full. */
static struct io_uring_sqe *get_sqe(void) {
    for (;;) {
        unsigned head = __atomic_load_n(ring.sq_head, __ATOMIC_ACQUIRE);
        unsigned tail = *ring.sq_tail;
        if (tail - head < RING_ENTRIES) {
            unsigned idx = tail & *ring.sq_mask;
            struct io_uring_sqe *sqe = &ring.sqes[idx];
            memset(sqe, 0, sizeof(*sqe));
            ring.sq_array[idx] = idx;
            /* Published to the kernel by the release store; the SQE must be filled before enter. */
            __atomic_store_n(ring.sq_tail, tail + 1, __ATOMIC_RELEASE);
            ring.to_submit++;
            return sqe;
        }
        int r = enter(ring.to_submit, 0, 0);
        if (r > 0) ring.to_submit -= (unsigned) r;
    }
}

static void prep(int op, int fd, void *addr, unsigned len, uint64_t data) {
    struct io_uring_sqe *sqe = get_sqe();
    sqe->opcode = (uint8_t) op;
    sqe->fd = fd;
    sqe->addr = (uint64_t) (uintptr_t) addr;
    sqe->len = len;
    sqe->user_data = data;
}

static uint64_t tag(int fd, int kind) { return ((uint64_t) (unsigned) fd << 2) | (uint64_t) kind; }

static void post_accept(int lfd) {
    prep(IORING_OP_ACCEPT, lfd, NULL, 0, tag(lfd, OP_ACCEPT));
    struct io_uring_sqe *sqe = &ring.sqes[(*ring.sq_tail - 1) & *ring.sq_mask];
    sqe->ioprio = IORING_ACCEPT_MULTISHOT;
    sqe->accept_flags = SOCK_CLOEXEC;
}

static void post_recv(int fd) {
    prep(IORING_OP_RECV, fd, conns[fd].buf, BUF_SIZE, tag(fd, OP_RECV));
}

static void post_send(int fd) {
    struct conn *c = &conns[fd];
    prep(IORING_OP_SEND, fd, c->buf + c->off, c->len - c->off, tag(fd, OP_SEND));
    ring.sqes[(*ring.sq_tail - 1) & *ring.sq_mask].msg_flags = MSG_NOSIGNAL;
}

static void drop(int fd) {
    close(fd);
    free(conns[fd].buf);
    memset(&conns[fd], 0, sizeof(conns[fd]));
}

static void complete(int lfd, uint64_t data, int res, unsigned flags) {
    int fd = (int) (data >> 2);
    switch ((int) (data & 3)) {
    case OP_ACCEPT:
        if (res >= 0) {
            if (res >= MAX_FDS || !(conns[res].buf = malloc(BUF_SIZE))) {
                close(res);
            } else {
                int one = 1;
                setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                post_recv(res);
            }
        }
        if (!(flags & IORING_CQE_F_MORE)) post_accept(lfd); /* multishot ended (error or overflow): re-arm */
        break;
    case OP_RECV:
        if (res <= 0) {
            drop(fd);
            break;
        }
        conns[fd].len = (unsigned) res;
        conns[fd].off = 0;
        post_send(fd);
        break;
    case OP_SEND:
        if (res < 0) {
            drop(fd);
            break;
        }
        conns[fd].off += (unsigned) res;
        if (conns[fd].off < conns[fd].len) post_send(fd); /* partial send: the rest */
        else post_recv(fd);
        break;
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: c_uring_echo PORT\n");
        return 2;
    }
    int port = atoi(argv[1]);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (setup() < 0) return 1;

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short) port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *) &addr, sizeof(addr)) < 0 || listen(lfd, 4096) < 0) {
        perror("c_uring_echo: bind/listen");
        return 1;
    }
    post_accept(lfd);
    printf("c_uring_echo listening on 127.0.0.1:%d\n", port);
    fflush(stdout);

    while (!stop) {
        int r = enter(ring.to_submit, 1, IORING_ENTER_GETEVENTS);
        if (r < 0) {
            if (errno == EINTR) continue;
            perror("c_uring_echo: io_uring_enter");
            return 1;
        }
        ring.to_submit -= (unsigned) r;
        unsigned head = *ring.cq_head;
        /* Acquire: the CQEs up to tail are written before the kernel published tail. */
        unsigned tail = __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE);
        while (head != tail) {
            struct io_uring_cqe *cqe = &ring.cqes[head & *ring.cq_mask];
            complete(lfd, cqe->user_data, cqe->res, cqe->flags);
            head++;
        }
        /* Release: the kernel may reuse the slots only after we are done reading them. */
        __atomic_store_n(ring.cq_head, head, __ATOMIC_RELEASE);
    }
    return 0;
}
#endif
