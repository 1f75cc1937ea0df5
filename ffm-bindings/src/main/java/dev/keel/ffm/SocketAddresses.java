package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxLayouts.SockaddrIn;
import dev.keel.ffm.gen.LinuxLayouts.SockaddrIn6;
import dev.keel.ffm.gen.LinuxLayouts.SockaddrStorage;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;

import static dev.keel.ffm.gen.LinuxConstants.AF_INET;
import static dev.keel.ffm.gen.LinuxConstants.AF_INET6;

/**
 * Encodes and decodes {@code struct sockaddr_in} / {@code sockaddr_in6} in caller segments.
 * Ports and IPv4 addresses are stored in network byte order as the kernel expects.
 */
public final class SocketAddresses {
    private static final ValueLayout.OfShort NET_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort HOST_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    /** Bytes that hold any address ({@code sizeof(struct sockaddr_storage)}). */
    public static final long STORAGE_SIZE = SockaddrStorage.SIZE;

    private SocketAddresses() {
    }

    /** Writes {@code address} into {@code into}; returns the sockaddr length to pass to the kernel. */
    public static int write(InetSocketAddress address, MemorySegment into) {
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("unresolved address: " + address);
        }
        into.asSlice(0, STORAGE_SIZE).fill((byte) 0);
        InetAddress ip = address.getAddress();
        if (ip instanceof Inet4Address) {
            into.set(HOST_SHORT, SockaddrIn.SIN_FAMILY, (short) AF_INET);
            into.set(NET_SHORT, SockaddrIn.SIN_PORT, (short) address.getPort());
            MemorySegment.copy(ip.getAddress(), 0, into, ValueLayout.JAVA_BYTE, SockaddrIn.SIN_ADDR, 4);
            return (int) SockaddrIn.SIZE;
        }
        Inet6Address ip6 = (Inet6Address) ip;
        into.set(HOST_SHORT, SockaddrIn6.SIN6_FAMILY, (short) AF_INET6);
        into.set(NET_SHORT, SockaddrIn6.SIN6_PORT, (short) address.getPort());
        MemorySegment.copy(ip6.getAddress(), 0, into, ValueLayout.JAVA_BYTE, SockaddrIn6.SIN6_ADDR, 16);
        into.set(ValueLayout.JAVA_INT_UNALIGNED, SockaddrIn6.SIN6_SCOPE_ID, ip6.getScopeId());
        return (int) SockaddrIn6.SIZE;
    }

    /** Reads the address the kernel wrote into {@code from}. */
    public static InetSocketAddress read(MemorySegment from) {
        int family = from.get(HOST_SHORT, SockaddrIn.SIN_FAMILY);
        try {
            if (family == AF_INET) {
                byte[] ip = new byte[4];
                MemorySegment.copy(from, ValueLayout.JAVA_BYTE, SockaddrIn.SIN_ADDR, ip, 0, 4);
                return new InetSocketAddress(InetAddress.getByAddress(ip),
                        Short.toUnsignedInt(from.get(NET_SHORT, SockaddrIn.SIN_PORT)));
            }
            if (family == AF_INET6) {
                byte[] ip = new byte[16];
                MemorySegment.copy(from, ValueLayout.JAVA_BYTE, SockaddrIn6.SIN6_ADDR, ip, 0, 16);
                return new InetSocketAddress(InetAddress.getByAddress(ip),
                        Short.toUnsignedInt(from.get(NET_SHORT, SockaddrIn6.SIN6_PORT)));
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalArgumentException("unsupported address family " + family);
    }

    /** The address family of {@code address}: AF_INET or AF_INET6. */
    public static int family(InetSocketAddress address) {
        return address.getAddress() instanceof Inet4Address ? AF_INET : AF_INET6;
    }
}
