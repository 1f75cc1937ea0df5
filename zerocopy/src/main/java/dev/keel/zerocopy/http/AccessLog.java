package dev.keel.zerocopy.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * An access log that never blocks a loop: each loop formats its lines into its own
 * single-producer ring of bytes, and one writer thread drains the rings to the file. A line
 * that does not fit because the disk is slower than the traffic is dropped and counted, never
 * waited for. Off unless a server is built with one.
 *
 * <p>Line format (one per request; the byte count is the body length the answer announced):
 * <pre>{@code 127.0.0.1 [Sun, 06 Nov 1994 08:49:37 GMT] "GET /index.html HTTP/1.1" 200 1234}</pre>
 */
public final class AccessLog implements AutoCloseable {
    private static final int RING_BYTES = 1 << 20;
    private static final int MAX_REQUEST_LINE = 1024;
    private static final long DRAIN_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    private final FileChannel channel;
    private final List<Ring> rings = new CopyOnWriteArrayList<>();
    private final Thread writer;
    private volatile boolean closing;

    private AccessLog(FileChannel channel) {
        this.channel = channel;
        this.writer = new Thread(this::drainLoop, "keel-access-log");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /** Opens (appending to, creating) {@code file}. */
    public static AccessLog open(Path file) {
        try {
            return new AccessLog(FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open access log " + file, e);
        }
    }

    /** Lines dropped because a ring was full. */
    public long dropped() {
        long n = 0;
        for (Ring r : rings) {
            n += (long) Ring.DROPPED.getOpaque(r);
        }
        return n;
    }

    Ring ring(int loop) {
        Ring r = new Ring();
        rings.add(r);
        return r;
    }

    private void drainLoop() {
        while (!closing) {
            drainAll();
            LockSupport.parkNanos(DRAIN_NANOS);
        }
        drainAll();
    }

    private void drainAll() {
        for (Ring r : rings) {
            try {
                r.drainTo(channel);
            } catch (IOException e) {
                System.getLogger("dev.keel.zerocopy").log(System.Logger.Level.WARNING, "access log: " + e);
            }
        }
    }

    /** Stops the writer after a last drain and closes the file. */
    @Override
    public void close() {
        closing = true;
        LockSupport.unpark(writer);
        try {
            writer.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * One loop's lines: a byte ring with a producer position written only by the loop and a
     * consumer position written only by the writer, each published with release semantics
     * and read with acquire, so the bytes between them are complete when seen.
     */
    static final class Ring {
        static final VarHandle HEAD;
        static final VarHandle TAIL;
        static final VarHandle DROPPED;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                HEAD = l.findVarHandle(Ring.class, "head", long.class);
                TAIL = l.findVarHandle(Ring.class, "tail", long.class);
                DROPPED = l.findVarHandle(Ring.class, "dropped", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final byte[] bytes = new byte[RING_BYTES];
        private final byte[] line = new byte[MAX_REQUEST_LINE + 256];
        private final MemorySegment lineView = MemorySegment.ofArray(line);
        /** Consumer position (writer thread). */
        @SuppressWarnings("unused")
        private long head;
        /** Producer position (loop thread). */
        @SuppressWarnings("unused")
        private long tail;
        @SuppressWarnings("unused")
        private long dropped;

        /** Formats and queues one line; loop thread only. */
        void record(byte[] peer, int peerLength, byte[] date, MemorySegment request, long from, long to,
                    int status, long bodyBytes) {
            int n = 0;
            for (int i = 0; i < peerLength; i++) {
                line[n++] = peer[i];
            }
            line[n++] = ' ';
            line[n++] = '[';
            System.arraycopy(date, 0, line, n, date.length);
            n += date.length;
            line[n++] = ']';
            line[n++] = ' ';
            line[n++] = '"';
            int length = (int) Math.min(to - from, MAX_REQUEST_LINE);
            MemorySegment.copy(request, JAVA_BYTE, from, line, n, length);
            n += length;
            line[n++] = '"';
            line[n++] = ' ';
            n = (int) Ascii.putDecimal(lineView, n, status);
            line[n++] = ' ';
            n = (int) Ascii.putDecimal(lineView, n, bodyBytes);
            line[n++] = '\n';
            offer(n);
        }

        private void offer(int n) {
            long t = (long) TAIL.getOpaque(this);
            long h = (long) HEAD.getAcquire(this);
            if (t + n - h > bytes.length) {
                DROPPED.setOpaque(this, (long) DROPPED.getOpaque(this) + 1);
                return;
            }
            int at = (int) (t % bytes.length);
            int first = Math.min(n, bytes.length - at);
            System.arraycopy(line, 0, bytes, at, first);
            System.arraycopy(line, first, bytes, 0, n - first);
            TAIL.setRelease(this, t + n);
        }

        void drainTo(FileChannel channel) throws IOException {
            long h = (long) HEAD.getOpaque(this);
            long t = (long) TAIL.getAcquire(this);
            while (h < t) {
                int at = (int) (h % bytes.length);
                int n = (int) Math.min(t - h, bytes.length - at);
                ByteBuffer b = ByteBuffer.wrap(bytes, at, n);
                while (b.hasRemaining()) {
                    channel.write(b);
                }
                h += n;
                HEAD.setRelease(this, h);
            }
        }
    }
}
