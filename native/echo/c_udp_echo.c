/*
 * c_udp_echo: the practical limit of one thread echoing UDP datagrams, the baseline keel's UDP
 * benchmark compares against (bench/udp-bench.sh). One thread, level-triggered epoll on one
 * non-blocking UDP socket: each readiness is answered with one recvmmsg(2) of up to BATCH
 * datagrams and one sendmmsg(2) that sends each back to its sender. A datagram the socket does
 * not take (EAGAIN: its send buffer is full) is dropped and counted, as UDP allows.
 *
 *   c_udp_echo PORT [BATCH] [BUSY_POLL_US]
 *
 * BATCH defaults to 32 (keel udp-echo's default), at most 1024. With BUSY_POLL_US > 0 the loop
 * spins on epoll_wait(0) that long before blocking. Prints one ready line, and the counts on
 * SIGINT/SIGTERM.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 1024
#define MAX_DATAGRAM 2048

static volatile sig_atomic_t stop;

static void on_signal(int sig) { (void) sig; stop = 1; }

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: c_udp_echo PORT [BATCH] [BUSY_POLL_US]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    int batch = argc > 2 ? atoi(argv[2]) : 32;
    long busy_us = argc > 3 ? atol(argv[3]) : 0;
    if (port <= 0 || port > 65535 || batch < 1 || batch > MAX_BATCH) {
        fprintf(stderr, "c_udp_echo: bad port or batch\n");
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { perror("socket"); return 1; }
    int buf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *) &addr, sizeof addr) < 0) { perror("bind"); return 1; }

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) { perror("epoll"); return 1; }

    static char payload[MAX_BATCH][MAX_DATAGRAM];
    static struct sockaddr_storage names[MAX_BATCH];
    static struct iovec iov[MAX_BATCH];
    static struct mmsghdr in[MAX_BATCH], out[MAX_BATCH];
    for (int i = 0; i < batch; i++) {
        iov[i].iov_base = payload[i];
        iov[i].iov_len = MAX_DATAGRAM;
    }

    printf("c_udp_echo listening on 127.0.0.1:%d (udp, batch %d%s)\n", port, batch, busy_us > 0 ? ", busy poll" : "");
    fflush(stdout);

    unsigned long long received = 0, sent = 0, dropped = 0, receive_calls = 0, send_calls = 0;
    struct epoll_event events[1];
    while (!stop) {
        int n = 0;
        if (busy_us > 0) {
            long long until = now_ns() + busy_us * 1000LL;
            do {
                n = epoll_wait(ep, events, 1, 0);
            } while (n == 0 && !stop && now_ns() < until);
        }
        if (n == 0) n = epoll_wait(ep, events, 1, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        if (n == 0) continue;
        for (int i = 0; i < batch; i++) {
            in[i].msg_hdr.msg_name = &names[i];
            in[i].msg_hdr.msg_namelen = sizeof names[i];
            in[i].msg_hdr.msg_iov = &iov[i];
            in[i].msg_hdr.msg_iovlen = 1;
            in[i].msg_hdr.msg_control = NULL;
            in[i].msg_hdr.msg_controllen = 0;
            in[i].msg_hdr.msg_flags = 0;
        }
        int got = recvmmsg(fd, in, batch, MSG_DONTWAIT, NULL);
        receive_calls++;
        if (got <= 0) continue; /* EAGAIN, or an error the next call reports again */
        received += got;
        for (int i = 0; i < got; i++) {
            out[i].msg_hdr = in[i].msg_hdr;
            struct iovec *v = &iov[i];
            v->iov_len = in[i].msg_len; /* echo exactly what came, then restore the slot */
            out[i].msg_hdr.msg_iov = v;
        }
        int done = 0;
        while (done < got) {
            int s = sendmmsg(fd, out + done, got - done, MSG_DONTWAIT);
            send_calls++;
            if (s < 0) {
                if (errno == EINTR) continue;
                dropped += got - done; /* EAGAIN: the send buffer is full; UDP drops */
                break;
            }
            done += s;
            sent += s;
        }
        for (int i = 0; i < got; i++) iov[i].iov_len = MAX_DATAGRAM;
    }
    fprintf(stderr, "c_udp_echo: %llu datagrams in (%llu recvmmsg), %llu out (%llu sendmmsg), %llu dropped\n",
            received, receive_calls, sent, send_calls, dropped);
    close(ep);
    close(fd);
    return 0;
}
