package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static dev.keel.ffm.gen.LinuxConstants.SYS_get_mempolicy;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class SeccompTest {
    @Test
    void shouldFailTheDeniedCallWithTheErrnoOnTheFilteredThreadOnly() throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread filtered = new Thread(() -> {
            Seccomp.denyOnCurrentThread(Errno.EPERM, SYS_get_mempolicy);
            try (Arena arena = Arena.ofConfined()) {
                Mempolicy.memsAllowed(NodeMask.allocate(arena));
            } catch (Throwable t) {
                failure.set(t);
            }
        });
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            filtered.start();
            filtered.join();
        });
        SyscallException e = assertInstanceOf(SyscallException.class, failure.get());
        assertEquals("get_mempolicy: EPERM (Operation not permitted)", e.getMessage());
        try (Arena arena = Arena.ofConfined()) {
            Mempolicy.memsAllowed(NodeMask.allocate(arena)); // this thread has no filter
        }
    }
}
