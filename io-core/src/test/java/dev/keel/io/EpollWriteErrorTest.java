package dev.keel.io;

import dev.keel.ffm.SyscallException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.keel.io.EchoBehaviourTest.connect;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A write the kernel refuses because the program is wrong (EFAULT: bytes at an address that is
 * not mapped) is a programming error: it surfaces as an exception naming the call and errno,
 * and the connection closes as an error, not as a reset by the peer.
 */
class EpollWriteErrorTest {
    @Test
    @Timeout(60)
    void shouldSurfaceEfaultOnWriteAsAnErrorNotAsAPeerReset() throws Exception {
        CompletableFuture<Throwable> thrown = new CompletableFuture<>();
        CompletableFuture<CloseReason> closed = new CompletableFuture<>();
        ConnectionHandler handler = new ConnectionHandler() {
            @Override
            public void onData(Connection c, MemorySegment data) {
                try {
                    // Native bytes at address 8: never mapped (vm.mmap_min_addr), so write(2) gives EFAULT.
                    c.write(MemorySegment.ofAddress(8).reinterpret(16));
                    thrown.complete(null);
                } catch (RuntimeException e) {
                    thrown.complete(e);
                }
            }

            @Override
            public void onClose(Connection c, CloseReason reason) {
                closed.complete(reason);
            }
        };
        try (EventLoopGroup group = EventLoopGroup.builder().unpinned().handler(handler).start();
             Socket client = connect(group)) {
            client.getOutputStream().write('x');
            Throwable t = thrown.get(10, TimeUnit.SECONDS);
            assertTrue(t instanceof SyscallException, "write threw: " + t);
            assertTrue(t.getMessage().startsWith("write") && t.getMessage().contains("EFAULT"), t.getMessage());
            assertEquals(CloseReason.ERROR, closed.get(10, TimeUnit.SECONDS), "closed as an error, not a reset");
        }
    }
}
