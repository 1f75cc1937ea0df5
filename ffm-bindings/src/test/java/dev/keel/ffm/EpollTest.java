package dev.keel.ffm;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static dev.keel.ffm.gen.LinuxConstants.EFD_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.EFD_NONBLOCK;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLIN;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLOUT;
import static dev.keel.ffm.gen.LinuxConstants.EPOLLRDHUP;
import static dev.keel.ffm.gen.LinuxConstants.EPOLL_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.EPOLL_CTL_ADD;
import static dev.keel.ffm.gen.LinuxConstants.EPOLL_CTL_DEL;
import static dev.keel.ffm.gen.LinuxConstants.EPOLL_CTL_MOD;
import static dev.keel.ffm.gen.LinuxConstants.SHUT_WR;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EpollTest {
    @Test
    void shouldReportAnEventfdReadableWithItsData() {
        int ep = Epoll.create(EPOLL_CLOEXEC);
        int efd = EventFd.create(0, EFD_NONBLOCK | EFD_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment events = arena.allocate(Epoll.eventArraySize(4));
            Epoll.ctl(ep, EPOLL_CTL_ADD, efd, EPOLLIN, 0xCAFE_BABE_0000_0001L);
            assertEquals(0, Epoll.wait(ep, events, 4, 0), "nothing ready yet");
            MemorySegment one = arena.allocate(JAVA_LONG);
            one.set(JAVA_LONG, 0, 1);
            EventFd.write(efd, one);
            assertEquals(1, Epoll.wait(ep, events, 4, 1000));
            assertEquals(EPOLLIN, Epoll.events(events, 0) & EPOLLIN);
            assertEquals(0xCAFE_BABE_0000_0001L, Epoll.data(events, 0));
            Epoll.ctl(ep, EPOLL_CTL_DEL, efd, 0, 0);
            assertEquals(0, Epoll.wait(ep, events, 4, 0), "removed descriptors report nothing");
        } finally {
            Files.close(efd);
            Files.close(ep);
        }
    }

    @Test
    void shouldReportSocketReadinessAndPeerHalfClose() {
        int ep = Epoll.create(EPOLL_CLOEXEC);
        try (TcpPair pair = TcpPair.open(); Arena arena = Arena.ofConfined()) {
            MemorySegment events = arena.allocate(Epoll.eventArraySize(4));
            Epoll.ctl(ep, EPOLL_CTL_ADD, pair.server(), EPOLLOUT, 7);
            assertEquals(1, Epoll.wait(ep, events, 4, 1000));
            assertEquals(EPOLLOUT, Epoll.events(events, 0));
            Epoll.ctl(ep, EPOLL_CTL_MOD, pair.server(), EPOLLIN | EPOLLRDHUP, 9);
            assertEquals(0, Epoll.wait(ep, events, 4, 0));
            Sockets.shutdown(pair.client(), SHUT_WR);
            assertEquals(1, Epoll.wait(ep, events, 4, 1000));
            assertTrue((Epoll.events(events, 0) & EPOLLRDHUP) != 0, "half-close is reported as EPOLLRDHUP");
            assertEquals(9, Epoll.data(events, 0));
        } finally {
            Files.close(ep);
        }
    }

    @Test
    void shouldNameTheErrnoOfABadControlCall() {
        int ep = Epoll.create(EPOLL_CLOEXEC);
        try {
            SyscallException e = assertThrows(SyscallException.class,
                    () -> Epoll.ctl(ep, EPOLL_CTL_MOD, ep, EPOLLIN, 0));
            assertEquals("EINVAL", e.errnoName(), "an epoll fd cannot watch itself");
        } finally {
            Files.close(ep);
        }
    }

    /** A failed wait names its errno, blocking or not. */
    @Test
    void shouldNameTheErrnoOfAWaitOnWhatIsNoEpollInstance() {
        int efd = EventFd.create(0, EFD_NONBLOCK | EFD_CLOEXEC);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment events = arena.allocate(Epoll.eventArraySize(4));
            SyscallException blocking = assertThrows(SyscallException.class, () -> Epoll.wait(efd, events, 4, 10));
            assertEquals("EINVAL", blocking.errnoName(), "an eventfd is not an epoll instance");
            SyscallException now = assertThrows(SyscallException.class, () -> Epoll.wait(efd, events, 4, 0));
            assertEquals("EINVAL", now.errnoName());
            SyscallException closed = assertThrows(SyscallException.class, () -> Epoll.wait(-1, events, 4, 0));
            assertEquals("EBADF", closed.errnoName());
        } finally {
            Files.close(efd);
        }
    }
}
