package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxLayouts.KernelTimespec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_NODROP;
import static dev.keel.ffm.gen.LinuxConstants.IORING_FEAT_SINGLE_MMAP;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_CQSIZE;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_SQE128;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SETUP_SQPOLL;
import static dev.keel.ffm.gen.LinuxConstants.IORING_SQ_NEED_WAKEUP;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Set-up, the SQ/CQ mechanics and error paths of {@link IoUringRing} on the real kernel. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class IoUringRingTest {
    @BeforeAll
    static void kernelHasIoUring() {
        Rings.requireIoUring();
    }

    @ParameterizedTest(name = "{0} entries -> SQ {1}, CQ {2}")
    @CsvSource({"1, 1, 2", "8, 8, 16", "100, 128, 256", "1024, 1024, 2048"})
    void shouldRoundEntriesToAPowerOfTwoAndReadParamsBack(int entries, int sq, int cq) {
        try (IoUringRing ring = IoUringRing.open(entries, 0)) {
            assertTrue(ring.fd() >= 0);
            assertEquals(sq, ring.sqEntries());
            assertEquals(cq, ring.cqEntries(), "the kernel's default CQ is twice the SQ");
            assertEquals(sq, ring.sqSpaceLeft());
            assertEquals(0, ring.cqReady());
            assertTrue(ring.hasFeature(IORING_FEAT_SINGLE_MMAP), "6.x kernels map both rings at once");
            assertTrue(ring.hasFeature(IORING_FEAT_NODROP));
            assertEquals(-1, ring.registeredIndex(), "the ring fd is not registered");
        }
    }

    @Test
    void shouldUseTheRequestedCqSize() {
        try (IoUringRing ring = IoUringRing.open(8, 0, 64, -1, 0)) {
            assertEquals(8, ring.sqEntries());
            assertEquals(64, ring.cqEntries());
            assertTrue((ring.setupFlags() & IORING_SETUP_CQSIZE) != 0);
        }
    }

    @Test
    void shouldRoundTripNopsWithTheirUserData() {
        try (IoUringRing ring = IoUringRing.open(8, 0)) {
            for (long ud : new long[] {1L, 0xCAFE_F00D_DEAD_BEEFL, -1L}) {
                ring.prep().nop(Rings.sqe(ring), ud);
            }
            List<Rings.Cqe> done = Rings.await(ring, 3);
            assertEquals(List.of(new Rings.Cqe(1L, 0, 0), new Rings.Cqe(0xCAFE_F00D_DEAD_BEEFL, 0, 0),
                    new Rings.Cqe(-1L, 0, 0)), done);
            assertEquals(0, ring.cqReady());
        }
    }

    @Test
    void shouldEncodeIntoDoubleSizedSqesWithSqe128() {
        try (IoUringRing ring = IoUringRing.open(4, IORING_SETUP_SQE128)) {
            for (int i = 0; i < 4; i++) {
                ring.prep().nop(Rings.sqe(ring), 100 + i);
            }
            List<Rings.Cqe> done = Rings.await(ring, 4);
            for (int i = 0; i < 4; i++) {
                assertEquals(100 + i, done.get(i).userData());
            }
        }
    }

    @Test
    void shouldWakeASleepingSqPollThreadOnSubmit() throws InterruptedException {
        try (IoUringRing ring = IoUringRing.open(4, IORING_SETUP_SQPOLL, 0, -1, 1)) {
            ring.prep().nop(Rings.sqe(ring), 1L);
            assertEquals(List.of(new Rings.Cqe(1L, 0, 0)), Rings.await(ring, 1));
            long deadline = System.nanoTime() + Rings.WAIT_NANOS;
            while ((ring.sqFlags() & IORING_SQ_NEED_WAKEUP) == 0) {
                assertTrue(System.nanoTime() < deadline, "the SQ thread never went to sleep after 1 ms idle");
                Thread.sleep(5);
            }
            ring.prep().nop(Rings.sqe(ring), 2L);
            assertEquals(1, ring.submit());
            // No waiting enter from here on: only the woken SQ thread can complete the NOP.
            while (ring.cqReady() == 0) {
                assertTrue(System.nanoTime() < deadline, "submit() did not wake the SQ thread");
                Thread.sleep(1);
            }
            List<Long> seen = new ArrayList<>();
            ring.forEachCompletion((ud, res, flags) -> seen.add(ud));
            assertEquals(List.of(2L), seen);
        }
    }

    @Test
    void shouldRefuseAnSqeWhenTheSqIsFullUntilSubmitted() {
        try (IoUringRing ring = IoUringRing.open(4, 0)) {
            for (int i = 0; i < 4; i++) {
                ring.prep().nop(Rings.sqe(ring), i);
            }
            assertEquals(0, ring.sqSpaceLeft());
            assertEquals(-1, ring.nextSqe(), "a full SQ hands out no SQE");
            assertEquals(4, ring.submit());
            assertEquals(4, ring.sqSpaceLeft(), "submitted SQEs are free again");
            Rings.await(ring, 4);
            // Wrap the ring indices several times.
            for (int round = 0; round < 5; round++) {
                for (int i = 0; i < 3; i++) {
                    ring.prep().nop(Rings.sqe(ring), round * 10 + i);
                }
                List<Rings.Cqe> done = Rings.await(ring, 3);
                assertEquals(round * 10 + 2, done.get(2).userData());
            }
        }
    }

    @Test
    void shouldDeliverAtMostMaxCompletionsPerBatch() {
        try (IoUringRing ring = IoUringRing.open(8, 0)) {
            for (int i = 0; i < 5; i++) {
                ring.prep().nop(Rings.sqe(ring), i);
            }
            assertEquals(5, ring.submitAndWait(5));
            assertEquals(5, ring.cqReady());
            List<Long> seen = new ArrayList<>();
            assertEquals(2, ring.forEachCompletion((ud, res, flags) -> seen.add(ud), 2));
            assertEquals(3, ring.cqReady());
            assertEquals(3, ring.forEachCompletion((ud, res, flags) -> seen.add(ud)));
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L), seen);
        }
    }

    @Test
    void shouldConsumeTheCompletionsSeenWhenTheHandlerThrows() {
        try (IoUringRing ring = IoUringRing.open(8, 0)) {
            for (int i = 0; i < 3; i++) {
                ring.prep().nop(Rings.sqe(ring), i);
            }
            assertEquals(3, ring.submitAndWait(3));
            List<Long> seen = new ArrayList<>();
            assertThrows(IllegalStateException.class, () -> ring.forEachCompletion((ud, res, flags) -> {
                seen.add(ud);
                if (ud == 1L) {
                    throw new IllegalStateException("handler failed");
                }
            }));
            assertEquals(1, ring.cqReady(), "the head moved past the completion that threw");
            ring.forEachCompletion((ud, res, flags) -> seen.add(ud));
            assertEquals(List.of(0L, 1L, 2L), seen);
        }
    }

    @Test
    void shouldReturnEtimeWhenATimedWaitExpires() {
        try (IoUringRing ring = IoUringRing.open(4, 0)) {
            long t0 = System.nanoTime();
            assertEquals(-Errno.ETIME, ring.submitAndWait(1, TimeUnit.MILLISECONDS.toNanos(20)));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(15), "the wait lasted the timeout");
        }
    }

    @Test
    void shouldFireATimeoutOpWithEtime() {
        try (IoUringRing ring = IoUringRing.open(4, 0); Arena arena = Arena.ofConfined()) {
            MemorySegment ts = arena.allocate(KernelTimespec.SIZE, KernelTimespec.ALIGNMENT);
            ts.set(JAVA_LONG, KernelTimespec.TV_NSEC, TimeUnit.MILLISECONDS.toNanos(5));
            ring.prep().timeout(Rings.sqe(ring), ts.address(), 0, 0, 77L);
            assertEquals(List.of(new Rings.Cqe(77L, -Errno.ETIME, 0)), Rings.await(ring, 1));
        }
    }

    @Test
    void shouldCancelAPendingPollByUserData() {
        int[] pair = TestNative.socketPair();
        try (IoUringRing ring = IoUringRing.open(4, 0)) {
            ring.prep().pollAdd(Rings.sqe(ring), pair[0], dev.keel.ffm.gen.LinuxConstants.EPOLLIN, 5L);
            assertEquals(1, ring.submit());
            assertEquals(0, ring.cqReady(), "nothing to read: the poll waits");
            ring.prep().asyncCancel(Rings.sqe(ring), 5L, 0, 6L);
            List<Rings.Cqe> done = new ArrayList<>(Rings.await(ring, 2));
            done.sort((a, b) -> Long.compare(a.userData(), b.userData()));
            assertEquals(List.of(new Rings.Cqe(5L, -Errno.ECANCELED, 0), new Rings.Cqe(6L, 0, 0)), done);
        } finally {
            Files.close(pair[0]);
            Files.close(pair[1]);
        }
    }

    @Test
    void shouldSubmitThroughTheRegisteredRingFd() {
        try (IoUringRing ring = IoUringRing.open(4, 0)) {
            int index = IoUringRegister.registerRingFd(ring);
            assertEquals(index, ring.registeredIndex());
            ring.prep().nop(Rings.sqe(ring), 9L);
            assertEquals(List.of(new Rings.Cqe(9L, 0, 0)), Rings.await(ring, 1));
            IoUringRegister.unregisterRingFd(ring);
            assertEquals(-1, ring.registeredIndex());
            ring.prep().nop(Rings.sqe(ring), 10L);
            assertEquals(List.of(new Rings.Cqe(10L, 0, 0)), Rings.await(ring, 1));
            IoUringRegister.registerRingFd(ring); // left registered: close() must unregister it
        }
    }

    @Test
    void shouldSignalARegisteredEventFdOnCompletion() {
        int efd = EventFd.create(0, dev.keel.ffm.gen.LinuxConstants.EFD_NONBLOCK);
        try (IoUringRing ring = IoUringRing.open(4, 0); Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_LONG);
            IoUringRegister.registerEventFd(ring, efd, false);
            assertEquals(-Errno.EAGAIN, EventFd.read(efd, count));
            ring.prep().nop(Rings.sqe(ring), 1L);
            Rings.await(ring, 1);
            assertEquals(8, EventFd.read(efd, count));
            assertTrue(count.get(JAVA_LONG, 0) >= 1);
            IoUringRegister.unregisterEventFd(ring);
            ring.prep().nop(Rings.sqe(ring), 2L);
            Rings.await(ring, 1);
            assertEquals(-Errno.EAGAIN, EventFd.read(efd, count), "no signal after unregistering");
        } finally {
            Files.close(efd);
        }
    }

    @Test
    void shouldThrowEbadfWhenEnteringABadFd() {
        SyscallException e = assertThrows(SyscallException.class, () -> IoUring.enter(-1, 0, 0, 0));
        assertEquals("EBADF", e.errnoName());
        assertEquals("io_uring_enter", e.call());
    }

    @Test
    void shouldThrowEinvalForZeroEntries() {
        SyscallException e = assertThrows(SyscallException.class, () -> IoUringRing.open(0, 0));
        assertEquals("EINVAL", e.errnoName());
        assertEquals("io_uring_setup", e.call());
    }

    @Test
    void shouldNameTheRegisterOpcodeOnFailure() {
        try (IoUringRing ring = IoUringRing.open(4, 0)) {
            SyscallException e = assertThrows(SyscallException.class, () -> IoUringRegister.unregisterBuffers(ring));
            assertEquals("ENXIO", e.errnoName(), "nothing registered to unregister");
            assertTrue(e.getMessage().endsWith("IORING_UNREGISTER_BUFFERS"), e.getMessage());
        }
    }

    @Test
    void shouldRefuseUseAfterCloseAndCloseTwiceQuietly() {
        IoUringRing ring = IoUringRing.open(4, 0);
        ring.close();
        assertFalse(ring.isOpen());
        assertThrows(IllegalStateException.class, ring::nextSqe, "segments over unmapped rings are dead");
        ring.close();
    }

    @Test
    void shouldReportSupportWithoutThrowing() {
        IoUring.Support s = IoUring.support();
        assertTrue(s.available(), s.reason());
        assertEquals(0, s.errno());
        assertTrue((s.features() & IORING_FEAT_SINGLE_MMAP) != 0);
        assertTrue(IoUring.isSupported());
        assertEquals(s.available(), IoUring.check().available());
    }
}
