package dev.keel.cli;

import dev.keel.io.Transport;
import dev.keel.ffm.IoUring;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code keel udp-echo} as a user runs it: help, refusals, and echo in a child process over both transports. */
class UdpEchoCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Keel.standard().run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    @Test
    void shouldPrintHelp() {
        assertEquals(0, run("udp-echo", "--help"));
        assertTrue(out.toString().startsWith("usage: keel udp-echo"), out.toString());
        assertTrue(out.toString().contains("--batch N"), out.toString());
    }

    @Test
    void shouldRefuseBadArguments() {
        assertEquals(2, run("udp-echo", "--batch", "0"));
        assertTrue(err.toString().contains("--batch"), err.toString());
        err.reset();
        assertEquals(2, run("udp-echo", "--port", "70000"));
        assertTrue(err.toString().contains("--port must be between 0 and 65535"), err.toString());
    }

    @Test
    void shouldRefuseAPortInUseWithTheErrno() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            assertEquals(1, run("udp-echo", "--port", Integer.toString(taken.getLocalPort())));
            assertTrue(err.toString().startsWith("keel udp-echo: bind: EADDRINUSE"), err.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(value = Transport.class, names = {"EPOLL", "IO_URING"})
    @Timeout(120)
    void shouldEchoDatagramsFromAChildProcess(Transport transport) throws Exception {
        if (transport == Transport.IO_URING) {
            Assumptions.assumeTrue(IoUring.support().available(), () -> "io_uring unavailable: "
                    + IoUring.support().reason());
        }
        try (KeelProcess keel = KeelProcess.start("udp-echo", "--port", "0", "--loops", "2",
                "--transport", transport.label());
             DatagramSocket c = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            assertTrue(keel.readyLine.contains("keel udp-echo listening on 127.0.0.1:"), keel.readyLine);
            assertTrue(keel.readyLine.contains("(udp, 2 loops"), keel.readyLine);
            c.setSoTimeout(20_000);
            InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), keel.port);
            byte[] in = new byte[2048];
            for (int i = 0; i < 1000; i++) {
                byte[] msg = ("datagram " + i + " ").repeat(1 + i % 50).getBytes(StandardCharsets.US_ASCII);
                c.send(new DatagramPacket(msg, msg.length, server));
                DatagramPacket p = new DatagramPacket(in, in.length);
                c.receive(p);
                assertArrayEquals(msg, Arrays.copyOf(in, p.getLength()), "echo " + i);
            }
        }
    }
}
