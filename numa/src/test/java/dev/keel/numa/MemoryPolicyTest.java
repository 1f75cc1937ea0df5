package dev.keel.numa;

import dev.keel.ffm.Mempolicy;
import dev.keel.ffm.NodeMask;
import dev.keel.ffm.gen.LinuxConstants;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class MemoryPolicyTest {
    @Test
    void shouldReportTheThreadPolicyByNameWithItsNodes() throws Exception {
        AtomicReference<MemoryPolicy> bound = new AtomicReference<>();
        AtomicReference<MemoryPolicy> reset = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try (Arena arena = Arena.ofConfined()) {
                Mempolicy.setMempolicy(LinuxConstants.MPOL_BIND | LinuxConstants.MPOL_F_STATIC_NODES,
                        NodeMask.of(arena, 0));
                bound.set(MemoryPolicy.ofCurrentThread());
                Mempolicy.setMempolicy(LinuxConstants.MPOL_DEFAULT, MemorySegment.NULL);
                reset.set(MemoryPolicy.ofCurrentThread());
            }
        });
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            t.start();
            t.join();
        });
        assertEquals(new MemoryPolicy("bind", IdSet.of(0), LinuxConstants.MPOL_F_STATIC_NODES), bound.get());
        assertEquals("bind 0", bound.get().toString());
        assertEquals("default", reset.get().toString());
    }

    @Test
    void shouldNameModesTheHeadersDoNotKnowByNumber() {
        assertEquals("interleave", MemoryPolicy.name(LinuxConstants.MPOL_INTERLEAVE));
        assertEquals("mode 99", MemoryPolicy.name(99));
    }
}
