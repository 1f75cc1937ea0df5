package dev.keel.zerocopy.proxy;

import dev.keel.io.Transport;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.stream.Stream;

/**
 * A child-process proxy for {@link ProxyEmfileTest}: on transport ARG1 (EPOLL or IO_URING),
 * proxies to 127.0.0.1:ARG0, prints its port, then answers on stdin: "squeeze K" (takes every
 * free descriptor, then gives K back), "release" (gives them all back), "fds" (descriptors
 * open), "sessions" (sessions open), "failed" (upstream connects failed otherwise than refused
 * or timed out); it exits when stdin closes.
 */
public final class ProxyEmfileProbe {
    private ProxyEmfileProbe() {
    }

    public static void main(String[] args) throws Exception {
        Deque<FileInputStream> held = new ArrayDeque<>();
        try (TcpProxy proxy = TcpProxy.builder().unpinned().transport(Transport.valueOf(args[1]))
                .upstream(new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0]))).start()) {
            System.out.println("port " + proxy.port());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith("squeeze ")) {
                    try {
                        while (true) {
                            held.push(new FileInputStream("/dev/null"));
                        }
                    } catch (IOException e) {
                        // EMFILE: every descriptor taken
                    }
                    for (int k = Integer.parseInt(line.substring(8)); k > 0; k--) {
                        held.pop().close();
                    }
                    System.out.println("squeezed");
                } else if (line.equals("release")) {
                    while (!held.isEmpty()) {
                        held.pop().close();
                    }
                    System.out.println("released");
                } else if (line.equals("fds")) {
                    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
                        System.out.println("fds " + fds.count());
                    }
                } else if (line.equals("sessions")) {
                    System.out.println("sessions " + proxy.totalStats().sessionsOpen());
                } else if (line.equals("failed")) {
                    System.out.println("failed " + proxy.totalStats().upstreamFailed());
                }
            }
        }
    }
}
