package dev.keel.cli;

import dev.keel.ffm.SyscallException;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.LoopOptions;
import dev.keel.io.Transport;
import dev.keel.zerocopy.http.FileServer;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * {@code keel train}: a short, self-contained workload for the JDK's AOT cache (JEPs 483, 514,
 * 515). {@code make dist} runs it once with {@code -XX:AOTCacheOutput}, so that the classes it
 * loads and links and the method profiles it gathers ship with the image and {@code bin/keel}
 * starts with them: {@code serve} and {@code echo} answer at close to their warm speed from
 * their first second. It runs what those commands run — a file server on each transport this
 * machine has, answering keep-alive GETs of small, medium and large files (including ranges,
 * 304s and 404s), and an echo server driven by keel's own load client — on 127.0.0.1, on free
 * ports, over a temporary directory it deletes, and stops by itself.
 */
final class TrainCommand implements Command {
    static final String HELP = """
            usage: keel train [--seconds S]

            A short training workload for the JDK's AOT cache (make dist runs it with
            -XX:AOTCacheOutput): keel serve on each transport this machine has, answering GETs
            of small and large files over keep-alive connections, and keel echo driven by keel
            load. Everything runs on 127.0.0.1 on free ports over a temporary directory, which is
            deleted; it stops by itself.
              --seconds S   total time spent under load (default 8, from 1 to 120)
            """;
    private static final byte[][] FILES = {new byte[1024], new byte[64 * 1024], new byte[1024 * 1024]};
    private static final String[] NAMES = {"small.css", "medium.js", "large.bin"};

    @Override
    public String name() {
        return "train";
    }

    @Override
    public String summary() {
        return "a short workload of serve and echo, for the JDK's AOT cache (make dist)";
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) {
        CommandOptions args = CommandOptions.parse(argv, Set.of("seconds"), Set.of("help"));
        if (args.flag("help")) {
            out.print(HELP);
            return Keel.EXIT_OK;
        }
        long seconds = args.integer("seconds", 8, 1, 120);
        List<Transport> transports = new ArrayList<>(List.of(Transport.EPOLL));
        if (Transport.ioUringUnavailableReason() == null) {
            transports.add(Transport.IO_URING);
        }
        // Half the time serves files, half echoes, split over the transports.
        Duration slice = Duration.ofMillis(seconds * 500 / transports.size());
        Path root = null;
        try {
            root = files();
            for (Transport t : transports) {
                long requests = serveFiles(root, t, slice);
                long echoes = echo(t, slice);
                out.println("keel train: " + t.label() + ": " + requests + " file requests, " + echoes + " echoes");
            }
            return Keel.EXIT_OK;
        } catch (IOException | SyscallException | IllegalStateException e) {
            err.println("keel train: " + e.getMessage());
            return Keel.EXIT_FAILURE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("keel train: interrupted");
            return Keel.EXIT_FAILURE;
        } finally {
            delete(root);
        }
    }

    private static Path files() throws IOException {
        Path dir = Files.createTempDirectory("keel-train");
        for (int i = 0; i < FILES.length; i++) {
            Files.write(dir.resolve(NAMES[i]), FILES[i]);
        }
        Files.writeString(dir.resolve("index.html"), "<!doctype html><title>keel</title>\n");
        return dir;
    }

    /** GETs over keep-alive connections until {@code time} passed; returns the requests answered. */
    private static long serveFiles(Path root, Transport transport, Duration time) throws IOException {
        try (FileServer server = FileServer.builder().root(root).host(InetAddress.getLoopbackAddress()).port(0)
                .loops(1).transport(transport).options(FileServer.loopOptions().directDescriptors(true).build()).start()) {
            long deadline = System.nanoTime() + time.toNanos();
            long requests = 0;
            String[] targets = {"/", "/small.css", "/medium.js", "/large.bin", "/missing", "/small.css"};
            String[] extra = {"", "", "Range: bytes=0-99\r\n", "", "", "If-None-Match: *\r\n"};
            while (System.nanoTime() - deadline < 0) {
                try (Socket s = new Socket(server.address().getAddress(), server.port())) {
                    s.setSoTimeout(5_000);
                    OutputStream o = s.getOutputStream();
                    InputStream in = new BufferedInputStream(s.getInputStream());
                    for (int i = 0; i < 100 && System.nanoTime() - deadline < 0; i++) {
                        int k = i % targets.length;
                        o.write(("GET " + targets[k] + " HTTP/1.1\r\nHost: train\r\n" + extra[k] + "\r\n")
                                .getBytes(StandardCharsets.ISO_8859_1));
                        readResponse(in);
                        requests++;
                    }
                }
            }
            return requests;
        }
    }

    /** Reads one response: its head, then Content-Length bytes of body. */
    private static void readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the server closed before answering");
            }
            head.append((char) b);
        }
        long length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                length = Long.parseLong(line.substring(15).trim());
            }
        }
        if (head.toString().startsWith("HTTP/1.1 304")) {
            length = 0;
        }
        in.skipNBytes(length); // EOFException when the body is short
    }

    /** keel load against a keel echo server for {@code time}; returns the echoes checked. */
    private static long echo(Transport transport, Duration time) throws InterruptedException {
        try (EventLoopGroup group = EventLoopGroup.builder().host(InetAddress.getLoopbackAddress()).port(0).loops(1)
                .transport(transport).options(LoopOptions.builder().build())
                .handler((connection, data) -> connection.write(data)).start()) {
            InetSocketAddress remote = new InetSocketAddress(InetAddress.getLoopbackAddress(), group.port());
            long echoes = 0;
            for (int size : new int[] {64, 16 * 1024}) {
                LoadRun.Result r = LoadRun.run(new LoadRun.Settings(remote, 16, 4, size, time.dividedBy(2), 0, 1,
                        new int[0], transport, false));
                if (r.errors() > 0) {
                    throw new IllegalStateException("echo training failed: " + r.firstError());
                }
                echoes += r.requests();
            }
            return echoes;
        }
    }

    private static void delete(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("keel train: cannot delete " + dir, e);
        }
    }
}
