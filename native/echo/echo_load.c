/*
 * echo_load: closed-loop load generator for echo servers. N connections each keep D requests
 * of S bytes in flight; every byte that comes back is checked against what was sent, and the
 * round-trip latency of each request goes into a log-linear histogram (HdrHistogram's bucket
 * scheme: 64 sub-buckets per power of two, under 1.6% error).
 *
 *   echo_load --port P [--host 127.0.0.1] [--conns N] [--depth D] [--size S]
 *             [--warmup SECONDS] [--duration SECONDS] [--server-pid PID [--server-cpu CPU]]
 *             [--load-cpu CPU]
 *   echo_load --port P --conns N --idle --server-pid PID [--settle SECONDS]
 *
 * Prints one JSON line: requests per second, MB/s each way, p50/p90/p95/p99/p99.9/max in
 * microseconds, and the count of corrupted bytes (must be 0). Exit status 1 on any error.
 * With --server-pid it also reports the server's CPU time (user + system, all its threads)
 * over the timed run and per request; with --server-cpu also how much of that CPU's busy time
 * was not the server's (other_cpu_s; other_user_s of it in user mode), and with --load-cpu (the
 * CPU this program is pinned to) how much of that one was not ours (load_other_cpu_s): on a
 * quiet machine both stay near zero, so they measure the noise in the measurement.
 *
 * --idle measures memory per idle connection instead: it reads the server's VmRSS, opens N
 * connections and sends nothing, waits until the server holds N more descriptors (it has
 * accepted them all) and SETTLE seconds more, reads VmRSS again and reports the difference per
 * connection. Then it echoes one message on every connection, checking each byte, so a server
 * that dropped connections cannot pass.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
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
#include <sys/time.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SOURCES_FROM 4096 /* connections above which they come from several source addresses */
#define SOURCES 8

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

/*
 * pattern() split as (message base) + shape[i], so that filling and checking a message are
 * plain loops the compiler vectorises: the generator must cost less per request than the
 * servers it measures, or it, not they, sets the throughput.
 */
static unsigned char *shape;

static inline unsigned char message_base(int conn, uint64_t seq) {
    return (unsigned char) (seq * 131 + (uint64_t) conn * 7);
}

static void make_shape(void) {
    shape = malloc(msg_size);
    if (!shape) { perror("malloc"); exit(1); }
    for (size_t i = 0; i < msg_size; i++) shape[i] = (unsigned char) (i * 3 + (i >> 8));
}

/* Bytes of [from, from + n) of a message with this base that differ from what was sent. */
static inline uint64_t mismatches(const unsigned char *got, unsigned char base, size_t from, size_t n) {
    uint64_t bad = 0;
    const unsigned char *want = shape + from;
    for (size_t j = 0; j < n; j++) bad += got[j] != (unsigned char) (base + want[j]);
    return bad;
}

/* Appends the next request; {@code now} is when it is sent (the flush follows at once). */
static int queue_request(struct conn *c, uint64_t now) {
    if (c->out_len + msg_size > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap * 2 : msg_size * (size_t) depth * 2;
        while (cap < c->out_len + msg_size) cap *= 2;
        char *grown = realloc(c->out, cap);
        if (!grown) return -1;
        c->out = grown;
        c->out_cap = cap;
    }
    unsigned char base = message_base(c->id, c->sent_seq);
    unsigned char *out = (unsigned char *) c->out + c->out_len;
    for (size_t i = 0; i < msg_size; i++) out[i] = (unsigned char) (base + shape[i]);
    c->out_len += msg_size;
    c->sent_at[c->sent_seq % (uint64_t) depth] = now;
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

/* utime and stime of every thread of PID, in seconds, from /proc/PID/stat; -1 if unreadable. */
static int process_cpu_seconds(int pid, double *user, double *sys) {
    char path[64], line[4096];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = 0;
    char *p = strrchr(line, ')'); /* the command name may hold spaces and parentheses */
    if (!p) return -1;
    unsigned long long utime = 0, stime = 0;
    /* after ')': state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return -1;
    *user = (double) utime / (double) sysconf(_SC_CLK_TCK);
    *sys = (double) stime / (double) sysconf(_SC_CLK_TCK);
    return 0;
}

/* CPU time (user + system) of this process so far, in seconds. */
static double self_cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* VmRSS of PID in KiB, -1 if unreadable. */
static long process_rss_kib(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kib = -1;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
    }
    fclose(f);
    return kib;
}

/*
 * Sockets PID holds open, -1 if unreadable. Sockets only: a JVM opens and closes other files
 * (jars, /proc) on its own, which would blur a count of all descriptors.
 */
static long process_sockets(int pid) {
    char path[64], entry[320], target[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    if (!d) return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(entry, sizeof(entry), "%s/%s", path, e->d_name);
        ssize_t len = readlink(entry, target, sizeof(target) - 1);
        if (len > 7 && memcmp(target, "socket:", 7) == 0) n++;
    }
    closedir(d);
    return n;
}

/*
 * Seconds CPU `cpu` spent busy since boot (everything but idle and iowait) and, of those, in
 * user mode, from /proc/stat; -1 if unreadable.
 */
static int cpu_seconds(int cpu, double *busy, double *user) {
    char want[16], line[512];
    snprintf(want, sizeof(want), "cpu%d ", cpu);
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    int found = -1;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long v[8] = {0};
        if (strncmp(line, want, strlen(want)) != 0) continue;
        if (sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) == 8) {
            /* user nice system idle iowait irq softirq steal */
            double hz = (double) sysconf(_SC_CLK_TCK);
            *busy = (double) (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
            *user = (double) (v[0] + v[1]) / hz;
            found = 0;
        }
        break;
    }
    fclose(f);
    return found;
}

static void usage(void) {
    fprintf(stderr, "usage: echo_load --port P [--host H] [--conns N] [--depth D] [--size S] "
                    "[--warmup SEC] [--duration SEC] [--server-pid PID [--server-cpu CPU]] [--load-cpu CPU] [--idle [--settle SEC]]\n");
    exit(2);
}

/*
 * --idle: the connections are open and have sent nothing. Waits until the server holds them
 * all, lets it settle, reads its VmRSS, then echoes one message per connection (every byte
 * checked) and prints one JSON line.
 */
static int hold_idle(struct conn *conns, int nconns, int pid, long rss_before, long socks_before, double settle,
                     double connect_s) {
    uint64_t deadline = now_ns() + 60ULL * 1000000000ULL;
    long socks;
    while ((socks = process_sockets(pid)) >= 0 && socks < socks_before + nconns && now_ns() < deadline) {
        usleep(50000);
    }
    if (socks < socks_before + nconns) {
        fprintf(stderr, "echo_load: the server holds %ld sockets, expected %ld\n", socks, socks_before + nconns);
        return 1;
    }
    usleep((useconds_t) (settle * 1e6));
    long rss_after = process_rss_kib(pid);

    unsigned char out[64], in[64];
    for (int i = 0; i < nconns; i++) {
        int fd = conns[i].fd;
        for (size_t k = 0; k < sizeof(out); k++) out[k] = pattern(i, 0, k);
        int flags = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        if (send(fd, out, sizeof(out), MSG_NOSIGNAL) != (ssize_t) sizeof(out)) {
            fprintf(stderr, "echo_load: idle connection %d: send: %s\n", i, strerror(errno));
            return 1;
        }
        size_t got = 0;
        while (got < sizeof(in)) {
            ssize_t r = recv(fd, in + got, sizeof(in) - got, 0);
            if (r <= 0) {
                fprintf(stderr, "echo_load: idle connection %d: closed by the server\n", i);
                return 1;
            }
            got += (size_t) r;
        }
        for (size_t k = 0; k < sizeof(in); k++) corrupt += in[k] != out[k];
    }
    long rss_echoed = process_rss_kib(pid);
    printf("{\"conns\":%d,\"idle\":1,\"connect_s\":%.2f,\"rss_before_kib\":%ld,\"rss_after_kib\":%ld,"
           "\"rss_after_echo_kib\":%ld,\"rss_per_conn_bytes\":%.0f,\"rss_per_conn_after_echo_bytes\":%.0f,"
           "\"corrupt\":%llu}\n",
           nconns, connect_s, rss_before, rss_after, rss_echoed, (rss_after - rss_before) * 1024.0 / nconns,
           (rss_echoed - rss_before) * 1024.0 / nconns, (unsigned long long) corrupt);
    for (int i = 0; i < nconns; i++) close(conns[i].fd);
    return corrupt == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 0, nconns = 1;
    int server_pid = 0, server_cpu_id = -1, load_cpu_id = -1, idle = 0;
    double warmup = 2, duration = 5, settle = 2;
    static struct option opts[] = {
        {"host", 1, 0, 'h'}, {"port", 1, 0, 'p'}, {"conns", 1, 0, 'c'}, {"depth", 1, 0, 'd'},
        {"size", 1, 0, 's'}, {"warmup", 1, 0, 'w'}, {"duration", 1, 0, 't'},
        {"server-pid", 1, 0, 'P'}, {"server-cpu", 1, 0, 'C'}, {"load-cpu", 1, 0, 'L'}, {"idle", 0, 0, 'i'}, {"settle", 1, 0, 'S'}, {0, 0, 0, 0}};
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
        case 'P': server_pid = atoi(optarg); break;
        case 'C': server_cpu_id = atoi(optarg); break;
        case 'L': load_cpu_id = atoi(optarg); break;
        case 'i': idle = 1; break;
        case 'S': settle = atof(optarg); break;
        default: usage();
        }
    }
    if (port <= 0 || nconns <= 0 || depth <= 0 || msg_size == 0 || duration <= 0) usage();
    make_shape();
    if (idle && server_pid <= 0) usage();

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
    long rss_before = 0, socks_before = 0;
    uint64_t connect_start = now_ns();
    if (idle) {
        /* Connections of an earlier run may still be closing: start from a steady count. */
        long prev = -2;
        for (int tries = 0; tries < 100 && (socks_before = process_sockets(server_pid)) != prev; tries++) {
            prev = socks_before;
            usleep(200000);
        }
        rss_before = process_rss_kib(server_pid);
        if (rss_before < 0 || socks_before < 0) {
            fprintf(stderr, "echo_load: cannot read /proc/%d\n", server_pid);
            return 1;
        }
    }
    /*
     * Above SOURCES_FROM connections to a loopback address, the connections come from
     * 127.0.0.1 to 127.0.0.SOURCES in turn: each source address has its own ephemeral ports, so
     * the kernel does not scan a nearly full port range (the last ones still in TIME_WAIT) for
     * every connect, which made 19,000 connections take 15 s.
     */
    int sources = nconns > SOURCES_FROM && (ntohl(addr.sin_addr.s_addr) >> 24) == 127 ? SOURCES : 1;
    for (int i = 0; i < nconns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && sources > 1) {
            struct sockaddr_in from = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001u + (uint32_t) (i % sources))};
            if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0
                || bind(fd, (struct sockaddr *) &from, sizeof(from)) < 0) {
                fprintf(stderr, "echo_load: connection %d: bind to a source address: %s\n", i, strerror(errno));
                return 1;
            }
        }
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

    if (idle) return hold_idle(conns, nconns, server_pid, rss_before, socks_before, settle,
                               (now_ns() - connect_start) / 1e9);

    size_t rbuf_size = msg_size * (size_t) depth > 65536 ? msg_size * (size_t) depth : 65536;
    unsigned char *rbuf = malloc(rbuf_size);
    struct epoll_event *events = calloc(1024, sizeof(*events));
    uint64_t measured = 0;
    int measuring = 0;
    double user_from = 0, sys_from = 0, busy_from = 0, cpu_user_from = 0, load_busy_from = 0, self_from = 0, unused;

    for (int i = 0; i < nconns; i++) {
        for (int d = 0; d < depth; d++) queue_request(&conns[i], now_ns());
        if (flush_out(&conns[i]) < 0) { perror("send"); return 1; }
    }
    /* The warm-up starts once the first requests are out: 19,000 x 64 KiB take seconds to send. */
    uint64_t start = now_ns();
    uint64_t measure_from = start + (uint64_t) (warmup * 1e9);
    uint64_t end = measure_from + (uint64_t) (duration * 1e9);
    for (;;) {
        uint64_t t = now_ns();
        if (t >= end) break;
        if (!measuring && t >= measure_from) {
            memset(histogram, 0, sizeof(histogram));
            max_latency = 0;
            measured = 0;
            measuring = 1;
            if (server_pid > 0) process_cpu_seconds(server_pid, &user_from, &sys_from);
            if (server_cpu_id >= 0) cpu_seconds(server_cpu_id, &busy_from, &cpu_user_from);
            if (load_cpu_id >= 0) {
                cpu_seconds(load_cpu_id, &load_busy_from, &unused);
                self_from = self_cpu_seconds();
            }
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
            /* One clock read per read(2): the echoes it completed arrived together, and the
             * requests sent in their place leave together with the flush below. */
            uint64_t done = now_ns();
            int sent_more = 0;
            for (size_t k = 0; k < (size_t) r; ) {
                size_t take = msg_size - c->recv_off;
                if (take > (size_t) r - k) take = (size_t) r - k;
                corrupt += mismatches(rbuf + k, message_base(c->id, c->done_seq), c->recv_off, take);
                k += take;
                c->recv_off += take;
                if (c->recv_off == msg_size) {
                    if (measuring) {
                        record(done - c->sent_at[c->done_seq % (uint64_t) depth]);
                        measured++;
                    }
                    c->done_seq++;
                    c->recv_off = 0;
                    queue_request(c, done);
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
    /*
     * other_cpu: busy time of the server's CPU not charged to the server, which includes kernel
     * work our own traffic causes there (softirqs on an idle CPU). other_user: user-mode time of
     * that CPU not the server's, which is other programs: the noise figure.
     */
    double server_cpu = -1, other_cpu = -1, other_user = -1, user_to = 0, sys_to = 0, busy_to = 0, cpu_user_to = 0;
    if (server_pid > 0 && process_cpu_seconds(server_pid, &user_to, &sys_to) == 0) {
        server_cpu = user_to - user_from + sys_to - sys_from;
        if (server_cpu_id >= 0 && cpu_seconds(server_cpu_id, &busy_to, &cpu_user_to) == 0) {
            other_cpu = busy_to - busy_from - server_cpu;
            other_user = cpu_user_to - cpu_user_from - (user_to - user_from);
            if (other_user < 0) other_user = 0; /* tick sampling against the precise per-task clock */
        }
    }
    double load_other = -1, load_busy_to = 0;
    if (load_cpu_id >= 0 && cpu_seconds(load_cpu_id, &load_busy_to, &unused) == 0) {
        load_other = load_busy_to - load_busy_from - (self_cpu_seconds() - self_from);
    }
    printf("{\"conns\":%d,\"depth\":%d,\"size\":%zu,\"requests\":%llu,\"seconds\":%.3f,\"rps\":%.0f,"
           "\"mbps\":%.2f,\"p50_us\":%.1f,\"p90_us\":%.1f,\"p95_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"max_us\":%.1f,"
           "\"server_cpu_s\":%.2f,\"cpu_us_per_req\":%.3f,\"other_cpu_s\":%.2f,\"other_user_s\":%.2f,"
           "\"load_other_cpu_s\":%.2f,\"corrupt\":%llu}\n",
           nconns, depth, msg_size, (unsigned long long) measured, seconds, measured / seconds,
           measured * (double) msg_size / seconds / 1e6, percentile(measured, 50), percentile(measured, 90),
           percentile(measured, 95), percentile(measured, 99), percentile(measured, 99.9), max_latency / 1000.0,
           server_cpu, server_pid > 0 && measured > 0 ? server_cpu * 1e6 / (double) measured : -1, other_cpu, other_user, load_other,
           (unsigned long long) corrupt);
    for (int i = 0; i < nconns; i++) close(conns[i].fd);
    if (measured == 0) fprintf(stderr, "echo_load: no echo completed in the %.1f s timed run\n", duration);
    return corrupt == 0 && measured > 0 ? 0 : 1;
}
