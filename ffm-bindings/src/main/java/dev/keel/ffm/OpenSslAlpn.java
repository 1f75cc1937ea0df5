package dev.keel.ffm;

import dev.keel.ffm.gen.OpenSslConstants;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** The ALPN select callback: one upcall stub for the process, the server's list per context. */
final class OpenSslAlpn {
    private OpenSslAlpn() {
    }

    static final MemorySegment STUB;

    static {
        try {
            MethodHandle target = MethodHandles.lookup().findStatic(OpenSslAlpn.class, "select",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, MemorySegment.class,
                            MemorySegment.class, int.class, MemorySegment.class));
            STUB = Linker.nativeLinker().upcallStub(target,
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS),
                    Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The wire format of RFC 7301 (length-prefixed names), ended by a zero length byte. */
    static MemorySegment encode(String... protocols) {
        int total = 1;
        for (String p : protocols) {
            int n = p.getBytes(StandardCharsets.US_ASCII).length;
            if (n == 0 || n > 255) {
                throw new IllegalArgumentException("ALPN protocol name must be 1..255 bytes: '" + p + "'");
            }
            total += 1 + n;
        }
        MemorySegment s = Arena.global().allocate(total);
        long at = 0;
        for (String p : protocols) {
            byte[] b = p.getBytes(StandardCharsets.US_ASCII);
            s.set(JAVA_BYTE, at++, (byte) b.length);
            MemorySegment.copy(b, 0, s, JAVA_BYTE, at, b.length);
            at += b.length;
        }
        s.set(JAVA_BYTE, at, (byte) 0);
        return s;
    }

    /**
     * {@code int cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
     * const unsigned char *in, unsigned int inlen, void *arg)}. Must not throw: an upcall that
     * throws ends the JVM. Any surprise refuses the handshake instead.
     */
    static int select(MemorySegment ssl, MemorySegment out, MemorySegment outLength, MemorySegment in,
                      int inLength, MemorySegment arg) {
        try {
            MemorySegment offered = in.reinterpret(inLength & 0xFFFFFFFFL);
            MemorySegment prefs = arg.reinterpret(Integer.MAX_VALUE);
            long p = 0;
            int plen;
            while ((plen = prefs.get(JAVA_BYTE, p) & 0xFF) != 0) {
                long c = 0;
                while (c < offered.byteSize()) {
                    int clen = offered.get(JAVA_BYTE, c) & 0xFF;
                    if (c + 1 + clen > offered.byteSize()) {
                        break;
                    }
                    if (clen == plen && MemorySegment.mismatch(offered, c + 1, c + 1 + clen, prefs, p + 1,
                            p + 1 + plen) < 0) {
                        out.reinterpret(ADDRESS.byteSize()).set(ADDRESS, 0, offered.asSlice(c + 1, clen));
                        outLength.reinterpret(1).set(JAVA_BYTE, 0, (byte) clen);
                        return OpenSslConstants.SSL_TLSEXT_ERR_OK;
                    }
                    c += 1 + clen;
                }
                p += 1 + plen;
            }
            return OpenSslConstants.SSL_TLSEXT_ERR_ALERT_FATAL;
        } catch (Throwable t) {
            return OpenSslConstants.SSL_TLSEXT_ERR_ALERT_FATAL;
        }
    }
}
