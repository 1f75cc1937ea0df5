package dev.keel.cli;

import dev.keel.io.Connection;
import dev.keel.io.ConnectionHandler;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.Transport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code keel load} against a real echo server on loopback, in this process; its JSON checked. */
class LoadCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int keel(String... args) {
        return Keel.standard().run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    private static EventLoopGroup echo(Transport transport, ConnectionHandler handler) {
        return EventLoopGroup.builder().transport(transport).unpinned().noReservations()
                .host(InetAddress.getLoopbackAddress()).handler(handler).start();
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> json() {
        return (Map<String, Object>) MiniJson.parse(out.toString());
    }

    private static double number(Object o) {
        return ((Number) o).doubleValue();
    }

    @Test
    @Timeout(60)
    void shouldMeasureAClosedLoopAndCheckEveryByte() {
        try (EventLoopGroup server = echo(Transport.EPOLL, (c, data) -> c.write(data))) {
            int rc = keel("load", "--port", Integer.toString(server.port()), "--connections", "8", "--depth", "4",
                    "--size", "100", "--duration", "1s", "--loops", "2", "--json");
            assertEquals(0, rc, err.toString());
            Map<String, Object> r = json();
            assertEquals("closed-loop", r.get("mode"));
            assertEquals(8.0, number(r.get("connections")));
            assertEquals(0.0, number(r.get("errors")));
            double requests = number(r.get("requests"));
            assertTrue(requests > 0, "requests answered: " + r);
            assertTrue(number(r.get("bytes_checked")) >= requests * 100, "every byte of every answer checked");
            assertTrue(number(r.get("requests_per_second")) > 0);
            @SuppressWarnings("unchecked")
            Map<String, Object> latency = (Map<String, Object>) r.get("latency_us");
            double previous = 0;
            for (String p : new String[] {"p50", "p90", "p99", "p99_9", "max"}) {
                double v = number(latency.get(p));
                assertTrue(v > 0 && v >= previous, p + " = " + v + " in " + latency);
                previous = v;
            }
        }
    }

    @Test
    @Timeout(60)
    void shouldPaceAFixedRateOverIoUringAndNeverSendMoreThanIsDue() {
        Transport t = Transport.ioUringUnavailableReason() == null ? Transport.IO_URING : Transport.EPOLL;
        try (EventLoopGroup server = echo(t, (c, data) -> c.write(data))) {
            int rc = keel("load", "--port", Integer.toString(server.port()), "--connections", "4", "--size", "64",
                    "--duration", "1s", "--rate", "2000", "--transport", t.label(), "--json");
            assertEquals(0, rc, err.toString());
            Map<String, Object> r = json();
            assertEquals("fixed-rate", r.get("mode"));
            assertEquals(t.label(), r.get("transport"));
            double requests = number(r.get("requests"));
            double seconds = number(r.get("seconds"));
            assertTrue(requests > 0, r.toString());
            // Requests are sent only when due: at most rate x time, plus the first of each connection.
            assertTrue(requests <= 2000 * seconds + 4, requests + " requests in " + seconds + " s at 2000/s");
        }
    }

    @Test
    @Timeout(60)
    void shouldFailWhenAnEchoedByteDiffers() {
        AtomicLong seen = new AtomicLong();
        ConnectionHandler corrupting = new ConnectionHandler() {
            @Override
            public void onData(Connection c, MemorySegment data) {
                long before = seen.getAndAdd(data.byteSize());
                if (before < 5000 && before + data.byteSize() >= 5000) {
                    long at = 5000 - before - (before + data.byteSize() == 5000 ? 1 : 0);
                    data.set(ValueLayout.JAVA_BYTE, at, (byte) ~data.get(ValueLayout.JAVA_BYTE, at));
                }
                c.write(data);
            }
        };
        try (EventLoopGroup server = echo(Transport.EPOLL, corrupting)) {
            int rc = keel("load", "--port", Integer.toString(server.port()), "--size", "100", "--duration", "2s");
            assertEquals(1, rc, out.toString());
            assertTrue(err.toString().contains("is not what was sent"), err.toString());
        }
    }

    @Test
    void shouldExplainItsArguments() {
        assertEquals(0, keel("load", "--help"));
        assertTrue(out.toString().contains("usage: keel load --port P"), out.toString());
        assertEquals(2, keel("load"));
        assertTrue(err.toString().contains("--port is required"), err.toString());
        err.reset();
        assertEquals(2, keel("load", "--port", "7000", "--duration", "soon"));
        assertTrue(err.toString().contains("--duration: 'soon'"), err.toString());
        err.reset();
        assertEquals(2, keel("load", "--port", "7000", "--depth", "0"));
        assertTrue(err.toString().contains("--depth"), err.toString());
        err.reset();
        assertEquals(2, keel("load", "--port", "7000", "--rate", "-5"));
        assertTrue(err.toString().contains("--rate"), err.toString());
    }

    @Test
    @Timeout(60)
    void shouldReportARefusedServer() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        assertEquals(1, keel("load", "--port", Integer.toString(port), "--duration", "1s"));
        assertTrue(err.toString().contains("ECONNREFUSED"), err.toString());
    }
}
