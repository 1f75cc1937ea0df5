package dev.keel.ffm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.IORING_FILE_INDEX_ALLOC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Multishot IORING_OP_ACCEPT on a 127.0.0.1 listener, into plain fds and into fixed file slots. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class IoUringAcceptTest {
    private int listenFd;
    private int port;
    private final List<Socket> clients = new ArrayList<>();

    @BeforeAll
    static void kernelHasIoUring() {
        Rings.requireIoUring();
    }

    @BeforeEach
    void listen() {
        int[] l = TestNative.listenOnLoopback();
        listenFd = l[0];
        port = l[1];
    }

    @AfterEach
    void closeAll() throws IOException {
        for (Socket c : clients) {
            c.close();
        }
        Files.close(listenFd);
    }

    private void connectClient() throws IOException {
        clients.add(new Socket("127.0.0.1", port));
    }

    @Test
    void shouldAcceptEveryConnectionFromOneMultishotSqe() throws IOException {
        try (IoUringRing ring = IoUringRing.open(4, 0)) {
            ring.prep().accept(Rings.sqe(ring), listenFd, 0L, 0L, SOCK_CLOEXEC, true, 51L);
            assertEquals(1, ring.submit());
            List<Integer> fds = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    connectClient();
                    Rings.Cqe c = Rings.await(ring, 1).get(0);
                    assertEquals(51L, c.userData());
                    assertTrue(c.res() >= 0, "accepted fd, got " + c.res());
                    assertTrue(IoUring.hasMore(c.flags()), "the multishot accept stays armed");
                    fds.add(c.res());
                }
                assertEquals(3, fds.stream().distinct().count());
            } finally {
                fds.forEach(Files::close);
            }
        }
    }

    @Test
    void shouldAcceptIntoFixedFileSlotsAndCloseThemThroughTheRing() throws IOException {
        try (IoUringRing ring = IoUringRing.open(4, 0)) {
            IoUringRegister.registerFilesSparse(ring, 8);
            ring.prep().acceptDirect(Rings.sqe(ring), listenFd, 0, true, IORING_FILE_INDEX_ALLOC, 61L);
            assertEquals(1, ring.submit());
            List<Integer> slots = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                connectClient();
                Rings.Cqe c = Rings.await(ring, 1).get(0);
                assertTrue(c.res() >= 0 && c.res() < 8, "a slot of the table, got " + c.res());
                assertTrue(IoUring.hasMore(c.flags()));
                slots.add(c.res());
            }
            assertNotEquals(slots.get(0), slots.get(1));
            for (int slot : slots) {
                ring.prep().closeDirect(Rings.sqe(ring), slot, 70L + slot);
                assertEquals(List.of(new Rings.Cqe(70L + slot, 0, 0)), Rings.await(ring, 1));
            }
            ring.prep().closeDirect(Rings.sqe(ring), slots.get(0), 80L);
            assertEquals(-dev.keel.ffm.gen.Errno.EBADF, Rings.await(ring, 1).get(0).res(), "the slot is empty now");
        }
    }
}
