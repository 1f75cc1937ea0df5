package dev.keel.io;

import dev.keel.io.uring.UringPoller;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

import static dev.keel.io.EchoBehaviourTest.await;
import static dev.keel.io.EchoBehaviourTest.connect;
import static dev.keel.io.EchoBehaviourTest.onLoop;
import static dev.keel.io.EchoBehaviourTest.openFds;
import static dev.keel.io.EchoBehaviourTest.readFully;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What closing a connection asks of the io_uring kernel side. A cancel keyed on the socket
 * (IORING_ASYNC_CANCEL_FD) makes the kernel walk every armed request of the ring, the recvs of
 * all other connections included: closing many connections at once then costs it O(n^2) and
 * holds the loop in io_uring_enter for seconds (bench/close-recovery.py measures that; this
 * test counts what causes it, without timing). A close cancels each request still waiting on
 * its socket by that request's user_data, and nothing when the peer's end of stream already
 * ended the recv. Both with process fds and with fixed file slots.
 */
class UringCloseCancelsTest {
    private static final int CONNECTIONS = 200;

    private EventLoopGroup group;

    @BeforeAll
    static void kernelRunsIoUring() {
        UringTests.assumeIoUring();
    }

    @AfterEach
    void stop() {
        if (group != null) {
            group.close();
        }
    }

    private EventLoop start(UringTransportTest.Tracking echo, boolean direct) throws Exception {
        group = EventLoopGroup.builder().transport(Transport.IO_URING)
                .options(LoopOptions.builder().directDescriptors(direct).build()).handler(echo).start();
        return group.loops().get(0);
    }

    private List<Socket> openEchoed(int n) throws Exception {
        List<Socket> sockets = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Socket s = connect(group);
            s.getOutputStream().write(i);
            assertEquals(i & 0xFF, s.getInputStream().read(), "echoed: the server holds connection " + i);
            sockets.add(s);
        }
        return sockets;
    }

    /** Connections whose peers closed first have no request left in the kernel: their closes cancel nothing. */
    @ParameterizedTest(name = "direct descriptors: {0}")
    @ValueSource(booleans = {false, true})
    @Timeout(120)
    void shouldCancelNothingWhenThePeerClosedFirst(boolean direct) throws Exception {
        UringTransportTest.Tracking echo = new UringTransportTest.Tracking();
        EventLoop loop = start(echo, direct);
        UringTests.settleJdkDescriptors();
        long fdsBefore = openFds();
        List<Socket> sockets = openEchoed(CONNECTIONS);
        for (Socket s : sockets) {
            s.close();
        }
        await("every connection to close", () -> echo.closedTotal() == CONNECTIONS);
        assertEquals(0, (int) onLoop(loop, loop::openConnections), "every slot released");
        assertEquals(0L, (long) onLoop(loop, () -> ((UringPoller) loop.poller()).closeCancels()),
                "closes after the peer's end of stream send no cancel");
        assertEquals(fdsBefore, openFds(), "every socket closed through the ring");
        assertServesOn();
    }

    /**
     * Connections the server closes have their multishot recv armed: each close cancels that one
     * request (by its user_data), and the socket really closes (the peer reads its end).
     */
    @ParameterizedTest(name = "direct descriptors: {0}")
    @ValueSource(booleans = {false, true})
    @Timeout(120)
    void shouldCancelEachWaitingRecvByItselfWhenTheServerCloses(boolean direct) throws Exception {
        UringTransportTest.Tracking echo = new UringTransportTest.Tracking();
        EventLoop loop = start(echo, direct);
        UringTests.settleJdkDescriptors();
        long fdsBefore = openFds();
        List<Socket> sockets = openEchoed(CONNECTIONS);
        try {
            await("every connection open", () -> echo.open.size() == CONNECTIONS);
            loop.execute(() -> List.copyOf(echo.open).forEach(Connection::close));
            for (int i = 0; i < CONNECTIONS; i++) {
                assertEquals(-1, sockets.get(i).getInputStream().read(), "connection " + i + " sees the server's close");
            }
            await("every connection to close", () -> echo.closedTotal() == CONNECTIONS);
            assertEquals(0, (int) onLoop(loop, loop::openConnections), "every slot released");
            assertEquals((long) CONNECTIONS, (long) onLoop(loop, () -> ((UringPoller) loop.poller()).closeCancels()),
                    "one cancel per close: the armed recv's");
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
        assertEquals(fdsBefore, openFds(), "every socket closed through the ring");
        assertServesOn();
    }

    private void assertServesOn() throws Exception {
        try (Socket s = connect(group)) {
            s.getOutputStream().write("after".getBytes());
            assertArrayEquals("after".getBytes(), readFully(s.getInputStream(), 5), "the loop serves on");
        }
    }
}
