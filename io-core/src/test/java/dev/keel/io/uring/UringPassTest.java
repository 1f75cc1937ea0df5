package dev.keel.io.uring;

import dev.keel.ffm.IoUringRing;
import dev.keel.io.LoopOptions;
import dev.keel.io.UringTests;
import dev.keel.io.loop.PollerHost;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.reflect.Proxy;
import java.time.Duration;

import static dev.keel.ffm.gen.LinuxConstants.IORING_SQ_NEED_WAKEUP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ring side of a pass, on a real SQPOLL ring: SQEs that must share one submission (the
 * linked cancel and close of a connection) get the room they need before the first is
 * written, even though an SQPOLL kernel thread frees entries on its own time.
 */
class UringPassTest {
    private static final int ENTRIES = 4;

    @BeforeAll
    static void kernelRunsIoUring() {
        UringTests.assumeIoUring();
    }

    @Test
    @Timeout(60)
    void shouldReserveRoomForALinkedPairOnAFullSqpollRing() throws Exception {
        LoopOptions options = LoopOptions.builder().ringEntries(ENTRIES).sqPoll(Duration.ofMillis(1), -1).build();
        int[] completions = new int[1];
        UringStats stats = new UringStats();
        try (IoUringRing ring = UringRings.open(options, -1, stats)) {
            UringPass pass = new UringPass(ring, (userData, res, flags) -> completions[0]++, idleHost(), stats);
            for (int round = 0; round < 20; round++) {
                // The SQ thread asleep: the next submit only wakes it, and it consumes later.
                long deadline = System.nanoTime() + 10_000_000_000L;
                while ((ring.sqFlags() & IORING_SQ_NEED_WAKEUP) == 0) {
                    assertTrue(System.nanoTime() < deadline, "the SQ thread never went to sleep");
                    Thread.sleep(5);
                }
                int s;
                while ((s = ring.nextSqe()) >= 0) {
                    ring.prep().nop(s, round);
                }
                assertEquals(0, ring.sqSpaceLeft(), "the SQ is full");
                pass.reserve(2);
                assertTrue(ring.sqSpaceLeft() >= 2, "round " + round + ": reserve(2) returned with "
                        + ring.sqSpaceLeft() + " free entries: a linked pair written now would be split");
                int expected = (round + 1) * ENTRIES;
                while (completions[0] < expected) {
                    pass.enterAndWait(1000);
                    pass.reap();
                }
            }
        }
    }

    /** A host that counts nothing and answers every question with a zero: all a bare pass needs. */
    private static PollerHost idleHost() {
        return (PollerHost) Proxy.newProxyInstance(PollerHost.class.getClassLoader(), new Class<?>[] {PollerHost.class},
                (proxy, method, args) -> {
                    Class<?> type = method.getReturnType();
                    if (type == boolean.class) {
                        return false;
                    }
                    if (type == int.class) {
                        return 0;
                    }
                    if (type == long.class) {
                        return 0L;
                    }
                    return null;
                });
    }
}
