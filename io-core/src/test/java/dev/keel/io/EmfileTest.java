package dev.keel.io;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A loop out of descriptors must not spin on its still-readable listener, and must serve again
 * once descriptors are free. The server runs in a child JVM whose RLIMIT_NOFILE is lowered, so
 * the test's own process keeps its descriptors.
 */
class EmfileTest {
    private static final int FD_LIMIT = 160;

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(90)
    void shouldPauseAcceptingOnEmfileWithoutSpinningAndResumeWhenFdsAreFree(Transport transport) throws Exception {
        if (transport == Transport.IO_URING) {
            UringTests.assumeIoUring();
        }
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        String cmd = "ulimit -n " + FD_LIMIT + " && exec '" + javaBin + "' --enable-native-access=ALL-UNNAMED -cp '"
                + System.getProperty("java.class.path") + "' dev.keel.io.EmfileProbe " + transport.label();
        Process child = new ProcessBuilder("bash", "-c", cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<Socket> clients = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
             PrintWriter in = new PrintWriter(child.getOutputStream(), true)) {
            String ready = out.readLine();
            assertTrue(ready != null && ready.startsWith("port "), "child ready line: " + ready);
            InetSocketAddress server = new InetSocketAddress("127.0.0.1", Integer.parseInt(ready.substring(5)));

            // More connections than the child has descriptors: the kernel completes them in the
            // backlog, and the child's accept4 starts failing with EMFILE.
            for (int i = 0; i < FD_LIMIT + 40; i++) {
                Socket s = new Socket();
                s.connect(server, 5000);
                clients.add(s);
            }
            // The child meets EMFILE as soon as its loop gets to the backlog; on a busy machine
            // that can take a while, so ask until it has (bounded: the test's timeout).
            long failures = 0;
            for (int ask = 0; ask < 300 && failures == 0; ask++) {
                in.println("stats");
                failures = Long.parseLong(out.readLine().substring("accept-failures ".length()));
                if (failures == 0) {
                    Thread.sleep(100);
                }
            }
            assertTrue(failures > 0, "accept4 failed with EMFILE at least once");

            long cpuBefore = cpuTicks(child.pid());
            long wallBefore = System.nanoTime();
            Thread.sleep(1500);
            long cpuTicks = cpuTicks(child.pid()) - cpuBefore;
            double cpuShare = cpuTicks * 10_000_000.0 / (System.nanoTime() - wallBefore); // 100 ticks per second
            assertTrue(cpuShare < 0.25, "the out-of-fds child used " + Math.round(cpuShare * 100)
                    + "% of a CPU; a spinning loop uses 100%");

            for (Socket s : clients) {
                s.close();
            }
            clients.clear();
            try (Socket s = new Socket()) {
                s.connect(server, 5000);
                s.setSoTimeout(10_000);
                s.getOutputStream().write("back".getBytes());
                assertArrayEquals("back".getBytes(), s.getInputStream().readNBytes(4), "service resumed");
            }
        } finally {
            for (Socket s : clients) {
                s.close();
            }
            child.getOutputStream().close();
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                child.destroyForcibly().waitFor();
            }
        }
    }

    /** utime + stime of {@code pid} in clock ticks (fields 14 and 15 of /proc/PID/stat). */
    private static long cpuTicks(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
