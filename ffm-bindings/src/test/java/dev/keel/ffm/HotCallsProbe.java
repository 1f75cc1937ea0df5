package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts.Iovec;
import dev.keel.ffm.gen.LinuxLayouts.Mmsghdr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import static dev.keel.ffm.gen.LinuxConstants.AF_INET;
import static dev.keel.ffm.gen.LinuxConstants.MSG_DONTWAIT;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_DGRAM;
import static dev.keel.ffm.gen.LinuxConstants.SOCK_NONBLOCK;

/**
 * Run by {@link HotCallsAllocationTest} in a JVM of its own with {@code -Xint}: makes the calls
 * an epoll loop makes per datagram batch {@value #CALLS} times and prints the bytes this thread
 * allocated meanwhile ({@code name bytes}); a call that captures errno (epoll_wait) is measured
 * too, as the control. Interpreted, nothing is scalar-replaced, so a call that allocates
 * anything shows it here whatever a JIT would have made of it.
 */
final class HotCallsProbe {
    static final int CALLS = 200;
    private static final int WARM_UP = 300;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private HotCallsProbe() {
    }

    @FunctionalInterface
    private interface Call {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        try (Arena arena = Arena.ofConfined()) {
            int ep = Epoll.create(SOCK_CLOEXEC);
            MemorySegment events = arena.allocate(Epoll.eventArraySize(4), 8);
            measure("epoll_wait_capturing", () -> Epoll.wait(ep, events, 4, 0));
            int fd = Sockets.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            MemorySegment name = arena.allocate(SocketAddresses.STORAGE_SIZE, 8);
            int nameLen = SocketAddresses.write(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), name);
            Sockets.bind(fd, name, nameLen);
            nameLen = Sockets.localAddress(fd, name);
            MemorySegment out = message(arena, name.address(), nameLen);
            MemorySegment in = message(arena, 0, 0);
            measure("sendmmsg_recvmmsg", () -> {
                if (Datagrams.sendmmsg(fd, out, 1, MSG_DONTWAIT) != 1
                        || Datagrams.recvmmsg(fd, in, 1, MSG_DONTWAIT) != 1) {
                    throw new IllegalStateException("a datagram to itself did not come back");
                }
            });
            Files.closeQuietly(fd);
            Files.closeQuietly(ep);
        }
    }

    /** One mmsghdr with one iovec of 64 bytes and the given name, laid out in a segment of its own. */
    private static MemorySegment message(Arena arena, long name, int nameLen) {
        MemorySegment m = arena.allocate(Mmsghdr.SIZE + Iovec.SIZE + 64, 8);
        Datagrams.setIovec(m, Mmsghdr.SIZE, m.address() + Mmsghdr.SIZE + Iovec.SIZE, 64);
        Datagrams.setMsghdr(m, Mmsghdr.MSG_HDR, name, nameLen, m.address() + Mmsghdr.SIZE, 0, 0);
        return m;
    }

    /**
     * {@link #WARM_UP} calls first — linking, class initialisation, and the customisation of
     * the method handle's lambda form after 127 invocations each allocate once — then
     * {@link #CALLS} measured.
     */
    private static void measure(String what, Call call) throws Exception {
        for (int i = 0; i < WARM_UP; i++) {
            call.run();
        }
        long before = THREADS.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < CALLS; i++) {
            call.run();
        }
        System.out.println(what + " " + (THREADS.getCurrentThreadAllocatedBytes() - before));
    }
}
