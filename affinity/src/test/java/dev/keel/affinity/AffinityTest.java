package dev.keel.affinity;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pinning on this machine, read back with sched_getcpu and the mask. */
class AffinityTest {
    /** Runs {@code body} on a new thread of {@code builder}, so no pin outlives the test. */
    static Throwable runOn(Thread.Builder builder, Runnable body) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> builder.start(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }).join());
        return failure.get();
    }

    static void onPlatformThread(Runnable body) {
        Throwable failure = runOn(Thread.ofPlatform(), body);
        if (failure instanceof AssertionError e) {
            throw e;
        }
        if (failure != null) {
            throw new AssertionError(failure);
        }
    }

    @Test
    void shouldPinToEveryUsableCpuAndReadItBack() {
        CpuSet usable = CpuTopology.system().usable();
        onPlatformThread(() -> usable.stream().forEach(cpu -> {
            assertEquals(cpu, Affinity.pinCurrentThread(cpu), "sched_getcpu after pinning");
            assertEquals(CpuSet.of(cpu), Affinity.currentMask());
            assertEquals(cpu, Affinity.currentCpu());
        }));
    }

    @Test
    void shouldPinToASetAndReturnTheMaskReadBack() {
        CpuSet usable = CpuTopology.system().usable();
        onPlatformThread(() -> {
            assertEquals(usable, Affinity.pinCurrentThread(usable));
            assertTrue(usable.contains(Affinity.currentCpu()));
        });
    }

    @Test
    void shouldRefuseACpuThatDoesNotExistWithTheReason() {
        CpuTopology t = CpuTopology.system();
        int missing = t.possible().last() + 1;
        onPlatformThread(() -> {
            CpuSet before = Affinity.currentMask();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Affinity.pinCurrentThread(missing));
            assertTrue(e.getMessage().startsWith("cannot pin to CPU " + missing + ": CPU " + missing
                    + " does not exist (this machine has CPUs " + t.present().toList() + ")"), e.getMessage());
            assertTrue(e.getMessage().contains("EINVAL"), e.getMessage());
            assertEquals(before, Affinity.currentMask(), "the mask is left as it was");
        });
    }

    @Test
    void shouldRefuseASetTheKernelWouldNarrowAndRestoreTheMask() {
        CpuTopology t = CpuTopology.system();
        int usable = t.usable().first();
        int missing = 9_999;
        onPlatformThread(() -> {
            CpuSet before = Affinity.currentMask();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Affinity.pinCurrentThread(CpuSet.of(usable, missing)));
            assertEquals("cannot pin to CPU " + usable + "," + missing + ": the kernel kept only " + usable
                    + "; CPU 9999 does not exist (this machine has CPUs " + t.present().toList() + ")", e.getMessage());
            assertEquals(before, Affinity.currentMask(), "the previous mask is restored");
        });
    }

    @Test
    void shouldRefuseToPinAVirtualThread() {
        Throwable failure = runOn(Thread.ofVirtual(), () -> Affinity.pinCurrentThread(0));
        IllegalStateException e = assertInstanceOf(IllegalStateException.class, failure);
        assertTrue(e.getMessage().startsWith("cannot pin virtual thread"), e.getMessage());
        assertTrue(e.getMessage().contains("carrier"), e.getMessage());
    }

    @Test
    void shouldRefuseAnEmptySet() {
        onPlatformThread(() -> assertThrows(IllegalArgumentException.class, () -> Affinity.pinCurrentThread(CpuSet.empty())));
    }
}
