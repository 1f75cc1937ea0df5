package dev.keel.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.keel.io.EchoBehaviourTest.connect;
import static dev.keel.io.EchoBehaviourTest.onLoop;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Connection#lendForKernelTls}: the socket is lent only where there is one (epoll; not
 * io_uring's direct descriptors) and only while nothing of the connection's output waits, so a
 * TLS library's own writes can never overtake queued bytes; a closed connection lends nothing.
 */
@Timeout(60)
class KernelTlsLendingTest {
    /** Bytes per write while filling the socket of a client that does not read. */
    private static final int CHUNK = 256 * 1024;
    /** Writes at most: 16 MiB, far more than a loopback socket takes before its peer reads. */
    private static final int MAX_WRITES = 64;

    /** Records what the connection lends on its first byte, then queues output the client will not read. */
    private static final class Lender implements ConnectionHandler {
        final CompletableFuture<Connection> opened = new CompletableFuture<>();
        final CompletableFuture<int[]> lent = new CompletableFuture<>();
        private final MemorySegment chunk = Arena.ofAuto().allocate(CHUNK);

        @Override
        public void onData(Connection c, MemorySegment data) {
            int fresh = c.lendForKernelTls();
            for (int i = 0; i < MAX_WRITES && c.isOpen() && c.pendingOutputBytes() == 0; i++) {
                c.write(chunk);
            }
            lent.complete(new int[] {fresh, c.lendForKernelTls(), c.pendingOutputBytes() > 0 ? 1 : 0});
            opened.complete(c);
        }
    }

    @Test
    void epollLendsTheSocketOnlyWhileNoOutputWaits() throws Exception {
        Lender lender = new Lender();
        try (EventLoopGroup group = EventLoopGroup.builder().unpinned().transport(Transport.EPOLL)
                .handler(lender).start();
             Socket client = connect(group)) {
            client.getOutputStream().write('x');
            int[] lent = lender.lent.get(10, TimeUnit.SECONDS);
            assertEquals(1, lent[2], "the socket of a client that does not read filled up and output waits");
            Connection c = lender.opened.get(10, TimeUnit.SECONDS);
            int fd = onLoop(group.loops().get(0), c::fd);
            assertTrue(fd >= 0, "epoll connections have a descriptor");
            assertEquals(fd, lent[0], "nothing queued: the socket is lent");
            assertEquals(-1, lent[1], "bytes queued in io-core: a borrower's writes would overtake them");
            onLoop(group.loops().get(0), () -> {
                c.abort();
                return null;
            });
            assertThrows(StaleHandleException.class, () -> {
                try {
                    onLoop(group.loops().get(0), c::lendForKernelTls);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw e.getCause();
                }
            });
        }
    }

    @Test
    void ioUringWithDirectDescriptorsHasNoSocketToLend() throws Exception {
        UringTests.assumeIoUring();
        Lender lender = new Lender();
        try (EventLoopGroup group = EventLoopGroup.builder().unpinned().transport(Transport.IO_URING)
                .options(LoopOptions.builder().directDescriptors(true).build()).handler(lender).start();
             Socket client = connect(group)) {
            client.getOutputStream().write('x');
            int[] lent = lender.lent.get(10, TimeUnit.SECONDS);
            assertEquals(-1, lent[0], "a direct descriptor lives only in the ring");
        }
    }
}
