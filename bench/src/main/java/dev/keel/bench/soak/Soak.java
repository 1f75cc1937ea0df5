package dev.keel.bench.soak;

import dev.keel.io.testing.ResourceSnapshot;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The soak's load driver ({@code make soak}, {@code bench/soak.sh}): writes a small site into
 * the directory a running {@code keel serve} serves, then drives that server and a running
 * {@code keel echo} with a mix of clients for the given time (slow ones that never finish a
 * head among them), checking every byte; prints a
 * line a minute and a summary: requests, errors, p50/p99/max latency, and each server's
 * resident memory, descriptors and threads at the start and the end. Exit status 1 on any
 * error, and when a server's descriptors grew: keel echo's must be back where they were;
 * keel serve's may grow only by descriptors of served files, at most {@code --open-files}
 * of them (the open-file cache's stated capacity, one loop) and never one file twice.
 *
 * <pre>
 * Soak --serve-port P --serve-pid PID --echo-port P --echo-pid PID --root DIR --seconds N
 *      [--http-clients 8] [--echo-clients 4] [--slow-clients 2] [--header-timeout 2] [--open-files 1024]
 * </pre>
 */
public final class Soak {
    /** What the load threads count, shared. */
    static final class Counters {
        final LongAdder httpRequests = new LongAdder();
        final LongAdder httpBytes = new LongAdder();
        final LongAdder echoMessages = new LongAdder();
        final LongAdder echoBytes = new LongAdder();
        final LongAdder timedOut = new LongAdder();
        final AtomicLong errors = new AtomicLong();
        final LatencyHistogram httpLatency = new LatencyHistogram();
        final LatencyHistogram echoLatency = new LatencyHistogram();

        void error(String what) {
            if (errors.incrementAndGet() <= 20) {
                System.out.println("soak: error: " + what);
            }
        }
    }

    private Soak() {
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = parse(argv);
        int servePort = Integer.parseInt(a.get("serve-port"));
        int echoPort = Integer.parseInt(a.get("echo-port"));
        long servePid = Long.parseLong(a.get("serve-pid"));
        long echoPid = Long.parseLong(a.get("echo-pid"));
        long seconds = Long.parseLong(a.get("seconds"));
        int httpClients = Integer.parseInt(a.getOrDefault("http-clients", "8"));
        int echoClients = Integer.parseInt(a.getOrDefault("echo-clients", "4"));
        int slowClients = Integer.parseInt(a.getOrDefault("slow-clients", "2"));
        int headerTimeout = Integer.parseInt(a.getOrDefault("header-timeout", "2"));
        int openFiles = Integer.parseInt(a.getOrDefault("open-files", "1024"));
        Path root = Path.of(a.get("root"));
        List<SoakFile> files = site(root);

        ResourceSnapshot serveStart = ResourceSnapshot.ofProcess(servePid);
        ResourceSnapshot echoStart = ResourceSnapshot.ofProcess(echoPid);
        Counters counters = new Counters();
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(seconds);
        List<Thread> threads = new ArrayList<>();
        InetSocketAddress serve = new InetSocketAddress("127.0.0.1", servePort);
        InetSocketAddress echo = new InetSocketAddress("127.0.0.1", echoPort);
        for (int i = 0; i < httpClients; i++) {
            threads.add(Thread.ofPlatform().name("soak-http-" + i).start(new HttpLoad(serve, files, counters, deadline, i)));
        }
        for (int i = 0; i < echoClients; i++) {
            threads.add(Thread.ofPlatform().name("soak-echo-" + i).start(new EchoLoad(echo, counters, deadline, 1000 + i)));
        }
        for (int i = 0; i < slowClients; i++) {
            threads.add(Thread.ofPlatform().name("soak-slow-" + i).start(new SlowLoad(serve, counters, deadline, headerTimeout)));
        }
        System.out.printf("soak: %d s against keel serve :%d (pid %d) and keel echo :%d (pid %d), %d HTTP, %d echo"
                + " and %d slow clients%n", seconds, servePort, servePid, echoPort, echoPid, httpClients, echoClients,
                slowClients);
        long nextReport = start + TimeUnit.SECONDS.toNanos(60);
        while (threads.stream().anyMatch(Thread::isAlive)) {
            Thread.sleep(200);
            if (System.nanoTime() >= nextReport && System.nanoTime() < deadline) {
                nextReport += TimeUnit.SECONDS.toNanos(60);
                System.out.printf("soak: %4d s  http %,d  echo %,d  errors %d  rss serve %s echo %s%n",
                        TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start), counters.httpRequests.sum(),
                        counters.echoMessages.sum(), counters.errors.get(),
                        mib(ResourceSnapshot.ofProcess(servePid).rssBytes()), mib(ResourceSnapshot.ofProcess(echoPid).rssBytes()));
            }
            if (!ProcessHandle.of(servePid).map(ProcessHandle::isAlive).orElse(false)
                    || !ProcessHandle.of(echoPid).map(ProcessHandle::isAlive).orElse(false)) {
                counters.error("a server process died");
                break;
            }
        }
        for (Thread t : threads) {
            t.join(30_000);
        }
        Thread.sleep(1000); // let the servers close the last connections before counting descriptors
        double elapsed = (System.nanoTime() - start) / 1e9;
        ResourceSnapshot serveEnd = ResourceSnapshot.ofProcess(servePid);
        ResourceSnapshot echoEnd = ResourceSnapshot.ofProcess(echoPid);
        report(counters, elapsed, "keel serve", serveStart, serveEnd, "keel echo", echoStart, echoEnd);
        // Descriptors only: the JVM starts threads of its own (attach listener, cleaners) under load.
        ResourceSnapshot.FileBound bound = new ResourceSnapshot.FileBound(root, openFiles, 1);
        for (String grown : serveEnd.growthSince(serveStart, 0, bound)) {
            if (grown.startsWith("descriptors") || grown.startsWith("file")) {
                counters.error("keel serve: " + grown);
            }
        }
        for (String grown : echoEnd.growthSince(echoStart, 0)) {
            if (grown.startsWith("descriptors")) {
                counters.error("keel echo: " + grown);
            }
        }
        System.out.printf("  serve files held at the end %d (bound %d, each at most once)%n",
                serveEnd.filesUnder(root).values().stream().mapToInt(Integer::intValue).sum(), openFiles);
        System.exit(counters.errors.get() == 0 ? 0 : 1);
    }

    private static void report(Counters c, double elapsed, String serveName, ResourceSnapshot serveStart,
                               ResourceSnapshot serveEnd, String echoName, ResourceSnapshot echoStart,
                               ResourceSnapshot echoEnd) {
        long http = c.httpRequests.sum();
        long echo = c.echoMessages.sum();
        System.out.printf("soak: done after %.0f s%n", elapsed);
        System.out.printf("  requests   http %,d (%,.0f/s, %s checked)  echo %,d (%,.0f/s, %s checked)  total %,d%n",
                http, http / elapsed, mib(c.httpBytes.sum()), echo, echo / elapsed, mib(c.echoBytes.sum()), http + echo);
        System.out.printf("  slow       %,d unfinished heads answered 408 and closed%n", c.timedOut.sum());
        System.out.printf("  errors     %d%n", c.errors.get());
        System.out.printf("  latency    http p50 %s  p99 %s  max %s | echo p50 %s  p99 %s  max %s%n",
                micros(c.httpLatency.quantileMicros(0.5)), micros(c.httpLatency.quantileMicros(0.99)),
                micros(c.httpLatency.quantileMicros(1.0)), micros(c.echoLatency.quantileMicros(0.5)),
                micros(c.echoLatency.quantileMicros(0.99)), micros(c.echoLatency.quantileMicros(1.0)));
        System.out.printf("  %-10s rss %s -> %s  descriptors %d -> %d  threads %d -> %d%n", serveName.substring(5),
                mib(serveStart.rssBytes()), mib(serveEnd.rssBytes()), serveStart.fds(), serveEnd.fds(),
                serveStart.threads(), serveEnd.threads());
        System.out.printf("  %-10s rss %s -> %s  descriptors %d -> %d  threads %d -> %d%n", echoName.substring(5),
                mib(echoStart.rssBytes()), mib(echoEnd.rssBytes()), echoStart.fds(), echoEnd.fds(),
                echoStart.threads(), echoEnd.threads());
    }

    /** Files of 0 B to 4 MiB of seeded random bytes, written into {@code root} and kept for checking. */
    private static List<SoakFile> site(Path root) throws IOException {
        int[] sizes = {0, 1, 100, 1024, 4095, 8192, 8193, 16 * 1024, 100_000, 1 << 20, 4 << 20};
        List<SoakFile> files = new ArrayList<>();
        Random random = new Random(42);
        for (int size : sizes) {
            byte[] bytes = new byte[size];
            random.nextBytes(bytes);
            String name = "file-" + size + ".bin";
            Files.write(root.resolve(name), bytes);
            files.add(new SoakFile(name, bytes));
        }
        return files;
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "?" : String.format("%.1f MiB", bytes / 1048576.0);
    }

    private static String micros(long us) {
        return us >= 10_000 ? String.format("%.1f ms", us / 1000.0) : us + " µs";
    }

    private static Map<String, String> parse(String[] argv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value, got " + argv[i]);
            }
            m.put(argv[i].substring(2), argv[i + 1]);
        }
        for (String required : List.of("serve-port", "echo-port", "serve-pid", "echo-pid", "seconds", "root")) {
            if (!m.containsKey(required)) {
                throw new IllegalArgumentException("missing --" + required);
            }
        }
        return m;
    }
}
