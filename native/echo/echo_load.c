/*
 * echo_load: closed-loop load generator for echo servers. N connections each keep D requests
 * of S bytes in flight; every byte that comes back is checked against what was sent, and the
 * round-trip latency of each request goes into a log-linear histogram (HdrHistogram's bucket
 * scheme: 64 sub-buckets per power of two, under 1.6% error).
 *
 *   echo_load --port P [--host 127.0.0.1] [--conns N] [--depth D] [--size S]
 *             [--warmup SECONDS] [--duration SECONDS]
 *
 * Prints one JSON line: requests per second, MB/s each way, p50/p90/p99/p99.9/max in
 * microseconds, and the count of corrupted bytes (must be 0). Exit status 1 on any error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SUB_BITS 6
#define SUB_COUNT (1 << SUB_BITS)
#define BUCKETS (64 * SUB_COUNT)

static uint64_t histogram[BUCKETS];
static uint64_t max_latency;

static int bucket_of(uint64_t v) {
    if (v < SUB_COUNT) return (int) v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - SUB_BITS;
    return (shift + 1) * SUB_COUNT + (int) ((v >> shift) & (SUB_COUNT - 1));
}

static uint64_t bucket_value(int b) {
    if (b < SUB_COUNT) return (uint64_t) b;
    int shift = b / SUB_COUNT - 1;
    uint64_t sub = (uint64_t) (b % SUB_COUNT) | SUB_COUNT;
    return ((sub << shift) + ((sub + 1) << shift)) / 2; /* middle of the bucket */
}

static void record(uint64_t ns) {
    histogram[bucket_of(ns)]++;
    if (ns > max_latency) max_latency = ns;
}

static double percentile(uint64_t total, double p) {
    uint64_t want = (uint64_t) (total * p / 100.0 + 0.5), seen = 0;
    if (want == 0) want = 1;
    for (int b = 0; b < BUCKETS; b++) {
        seen += histogram[b];
        if (seen >= want) return bucket_value(b) / 1000.0;
    }
    return max_latency / 1000.0;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

struct conn {
    int fd;
    int id;
    uint64_t sent_seq;      /* requests sent */
    uint64_t done_seq;      /* requests fully echoed */
    size_t recv_off;        /* bytes of the current response received */
    uint64_t *sent_at;      /* ring of D send timestamps */
    char *out;              /* bytes not yet taken by the socket */
    size_t out_len, out_cap;
};

static size_t msg_size = 64;
static int depth = 1;
static uint64_t corrupt;

static inline unsigned char pattern(int conn, uint64_t seq, size_t i) {
    return (unsigned char) (seq * 131 + (uint64_t) conn * 7 + i * 3 + (i >> 8));
}

static int queue_request(struct conn *c) {
    if (c->out_len + msg_size > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap * 2 : msg_size * (size_t) depth * 2;
        while (cap < c->out_len + msg_size) cap *= 2;
        char *grown = realloc(c->out, cap);
        if (!grown) return -1;
        c->out = grown;
        c->out_cap = cap;
    }
    for (size_t i = 0; i < msg_size; i++) c->out[c->out_len + i] = (char) pattern(c->id, c->sent_seq, i);
    c->out_len += msg_size;
    c->sent_at[c->sent_seq % (uint64_t) depth] = now_ns();
    c->sent_seq++;
    return 0;
}

static int flush_out(struct conn *c) {
    size_t off = 0;
    while (off < c->out_len) {
        ssize_t w = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN) break;
            return -1;
        }
        off += (size_t) w;
    }
    memmove(c->out, c->out + off, c->out_len - off);
    c->out_len -= off;
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: echo_load --port P [--host H] [--conns N] [--depth D] [--size S] "
                    "[--warmup SEC] [--duration SEC]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 0, nconns = 1;
    double warmup = 2, duration = 5;
    static struct option opts[] = {
        {"host", 1, 0, 'h'}, {"port", 1, 0, 'p'}, {"conns", 1, 0, 'c'}, {"depth", 1, 0, 'd'},
        {"size", 1, 0, 's'}, {"warmup", 1, 0, 'w'}, {"duration", 1, 0, 't'}, {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'c': nconns = atoi(optarg); break;
        case 'd': depth = atoi(optarg); break;
        case 's': msg_size = (size_t) atol(optarg); break;
        case 'w': warmup = atof(optarg); break;
        case 't': duration = atof(optarg); break;
        default: usage();
        }
    }
    if (port <= 0 || nconns <= 0 || depth <= 0 || msg_size == 0 || duration <= 0) usage();

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short) port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "echo_load: bad host %s\n", host);
        return 2;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct conn *conns = calloc((size_t) nconns, sizeof(*conns));
    int one = 1;
    for (int i = 0; i < nconns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
            fprintf(stderr, "echo_load: connection %d: %s\n", i, strerror(errno));
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) return 1;
        conns[i] = (struct conn){.fd = fd, .id = i, .sent_at = calloc((size_t) depth, sizeof(uint64_t))};
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t) i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }

    size_t rbuf_size = msg_size * (size_t) depth > 65536 ? msg_size * (size_t) depth : 65536;
    unsigned char *rbuf = malloc(rbuf_size);
    struct epoll_event *events = calloc(1024, sizeof(*events));
    uint64_t start = now_ns();
    uint64_t measure_from = start + (uint64_t) (warmup * 1e9);
    uint64_t end = measure_from + (uint64_t) (duration * 1e9);
    uint64_t measured = 0;
    int measuring = 0;

    for (int i = 0; i < nconns; i++) {
        for (int d = 0; d < depth; d++) queue_request(&conns[i]);
        if (flush_out(&conns[i]) < 0) { perror("send"); return 1; }
    }
    for (;;) {
        uint64_t t = now_ns();
        if (t >= end) break;
        if (!measuring && t >= measure_from) {
            memset(histogram, 0, sizeof(histogram));
            max_latency = 0;
            measured = 0;
            measuring = 1;
        }
        int n = epoll_wait(ep, events, 1024, 100);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        for (int e = 0; e < n; e++) {
            struct conn *c = &conns[events[e].data.u32];
            if (events[e].events & EPOLLOUT && c->out_len > 0 && flush_out(c) < 0) {
                fprintf(stderr, "echo_load: send: %s\n", strerror(errno));
                return 1;
            }
            if (!(events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
            ssize_t r = read(c->fd, rbuf, rbuf_size);
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                fprintf(stderr, "echo_load: connection %d closed by the server\n", c->id);
                return 1;
            }
            if (r < 0) continue;
            int sent_more = 0;
            for (ssize_t k = 0; k < r; k++) {
                if (rbuf[k] != pattern(c->id, c->done_seq, c->recv_off)) corrupt++;
                if (++c->recv_off == msg_size) {
                    uint64_t done = now_ns();
                    if (measuring) {
                        record(done - c->sent_at[c->done_seq % (uint64_t) depth]);
                        measured++;
                    }
                    c->done_seq++;
                    c->recv_off = 0;
                    queue_request(c);
                    sent_more = 1;
                }
            }
            if (sent_more && flush_out(c) < 0) {
                fprintf(stderr, "echo_load: send: %s\n", strerror(errno));
                return 1;
            }
        }
    }
    double seconds = (now_ns() - measure_from) / 1e9;
    printf("{\"conns\":%d,\"depth\":%d,\"size\":%zu,\"requests\":%llu,\"seconds\":%.3f,\"rps\":%.0f,"
           "\"mbps\":%.2f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
           "\"corrupt\":%llu}\n",
           nconns, depth, msg_size, (unsigned long long) measured, seconds, measured / seconds,
           measured * (double) msg_size / seconds / 1e6, percentile(measured, 50), percentile(measured, 90),
           percentile(measured, 99), percentile(measured, 99.9), max_latency / 1000.0,
           (unsigned long long) corrupt);
    for (int i = 0; i < nconns; i++) close(conns[i].fd);
    return corrupt == 0 && measured > 0 ? 0 : 1;
}
