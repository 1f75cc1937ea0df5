package dev.keel.cli;

import dev.keel.io.Datagram;
import dev.keel.io.DatagramEndpoint;
import dev.keel.io.DatagramHandler;
import dev.keel.io.DatagramOptions;
import dev.keel.io.EventLoopGroup;
import dev.keel.io.Transport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code keel load --udp} against a real UDP echo (keel's datagram endpoints) on loopback, in this process. */
class UdpLoadCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int keel(String... args) {
        return Keel.standard().run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    /** A one-loop UDP echo server; {@code handler} answers. */
    private static EventLoopGroup server(Transport transport) {
        return EventLoopGroup.builder().transport(transport).unpinned().noReservations().loops(1)
                .withoutListener().start();
    }

    private static int open(EventLoopGroup g, DatagramHandler handler) {
        DatagramOptions o = DatagramOptions.builder().socketBuffers(4 << 20, 4 << 20).build();
        DatagramEndpoint e = g.openDatagrams(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), o,
                i -> handler).get(0);
        return e.localPort();
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
    void shouldMeasureDatagramRoundTripsAndCheckEveryByte() {
        try (EventLoopGroup g = server(Transport.EPOLL)) {
            int port = open(g, UdpEchoCommand.ECHO);
            int rc = keel("load", "--udp", "--port", Integer.toString(port), "--connections", "4", "--depth", "4",
                    "--size", "100", "--duration", "1s", "--loops", "2", "--json");
            assertEquals(0, rc, err.toString());
            Map<String, Object> r = json();
            assertEquals("udp", r.get("protocol"));
            assertEquals(0.0, number(r.get("errors")));
            double requests = number(r.get("requests"));
            assertTrue(requests > 0, "datagrams answered: " + r);
            // Echoes that come after the run are checked too, not measured.
            assertTrue(number(r.get("bytes_checked")) >= requests * 100, "every byte of every echo checked: " + r);
            assertTrue(r.containsKey("lost") && r.containsKey("late") && r.containsKey("dropped"), r.toString());
        }
    }

    @Test
    @Timeout(60)
    void shouldPaceAFixedRateOfDatagramsOverIoUring() {
        Transport t = Transport.ioUringUnavailableReason() == null ? Transport.IO_URING : Transport.EPOLL;
        try (EventLoopGroup g = server(t)) {
            int port = open(g, UdpEchoCommand.ECHO);
            int rc = keel("load", "--udp", "--port", Integer.toString(port), "--connections", "2", "--size", "64",
                    "--duration", "1s", "--rate", "1000", "--transport", t.label(), "--json");
            assertEquals(0, rc, err.toString());
            Map<String, Object> r = json();
            assertEquals("fixed-rate", r.get("mode"));
            double requests = number(r.get("requests"));
            double seconds = number(r.get("seconds"));
            assertTrue(requests > 0 && requests <= 1000 * seconds + 2, requests + " datagrams in " + seconds + " s");
        }
    }

    @Test
    @Timeout(60)
    void shouldCountDatagramsNeverEchoedAsLost() {
        AtomicLong seen = new AtomicLong();
        DatagramHandler everyOther = (e, d) -> {
            if (seen.incrementAndGet() % 2 == 0) {
                UdpEchoCommand.ECHO.onDatagram(e, d);
            }
        };
        try (EventLoopGroup g = server(Transport.EPOLL)) {
            int port = open(g, everyOther);
            int rc = keel("load", "--udp", "--port", Integer.toString(port), "--depth", "8", "--size", "32",
                    "--duration", "1s", "--json");
            assertEquals(0, rc, "losses are reported, not failures: " + err);
            Map<String, Object> r = json();
            assertTrue(number(r.get("lost")) > 0, "the datagrams the server dropped are lost: " + r);
            assertTrue(number(r.get("requests")) > 0, r.toString());
        }
    }

    @Test
    @Timeout(60)
    void shouldFailWhenAnEchoedByteDiffers() {
        DatagramHandler corrupting = (e, d) -> {
            Datagram datagram = d;
            long at = datagram.length() - 1;
            datagram.payload().set(ValueLayout.JAVA_BYTE, at, (byte) ~datagram.payload().get(ValueLayout.JAVA_BYTE, at));
            UdpEchoCommand.ECHO.onDatagram(e, datagram);
        };
        try (EventLoopGroup g = server(Transport.EPOLL)) {
            int port = open(g, corrupting);
            assertEquals(1, keel("load", "--udp", "--port", Integer.toString(port), "--duration", "1s"));
            assertTrue(err.toString().contains("is not a datagram that was sent"), err.toString());
        }
    }

    @Test
    @Timeout(60)
    void shouldRefuseWhatADatagramCannotCarry() {
        assertEquals(2, keel("load", "--udp", "--port", "7000", "--size", "4"));
        assertTrue(err.toString().contains("--size"), err.toString());
        err.reset();
        assertEquals(2, keel("load", "--udp", "--port", "7000", "--size", "70000"));
        assertTrue(err.toString().contains("--size"), err.toString());
        err.reset();
        assertEquals(2, keel("load", "--udp", "--port", "7000", "--loops", "1", "--connections", "65",
                "--duration", "1s"));
        assertTrue(err.toString().contains("at most 64 flows per loop"), err.toString());
    }

    /** Nobody on the port: the ICMP port-unreachable reaches each flow's connected endpoint as ECONNREFUSED. */
    @Test
    @Timeout(60)
    void shouldReportARefusedPort() throws Exception {
        int port;
        try (java.net.DatagramSocket gone = new java.net.DatagramSocket(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            port = gone.getLocalPort();
        }
        assertEquals(1, keel("load", "--udp", "--port", Integer.toString(port), "--duration", "1s"));
        assertTrue(err.toString().contains("ECONNREFUSED"), err.toString());
    }
}
