package dev.keel.zerocopy.http;

import dev.keel.ffm.PageCache;
import dev.keel.ffm.SyscallException;
import dev.keel.io.EventLoop;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static dev.keel.ffm.gen.LinuxConstants.POSIX_FADV_WILLNEED;

/**
 * Reads cold file ranges into the page cache off the loops, as nginx's {@code aio threads}: a
 * loop that finds the next chunk of a body not resident ({@link Residency}) hands the range to
 * this pool and goes on serving its other connections; a reader thread reads it (pread(2) into
 * its own off-heap buffer, after posix_fadvise(WILLNEED) so the kernel reads ahead in large
 * requests) and then asks the loop to go on with the send, which now finds the pages cached.
 *
 * <p>Bounded: {@code threads} readers, {@code queueCapacity} ranges waiting at most; a range
 * that does not fit is refused ({@link #submit} returns false) and the loop sends it at once,
 * as it would without the pool (counted in {@link #refused()}). One server shares one pool.
 */
final class ReadAhead implements AutoCloseable {
    /** Bytes each reader reads per pread(2). */
    static final int READ_BYTES = 256 * 1024;
    /** How long a reader waits before offering a finished read again to a loop whose task queue was full. */
    private static final long HAND_BACK_RETRY_NANOS = 1_000_000;

    private record Task(EventLoop loop, int fd, long offset, long length, Runnable done) {
    }

    private final ArrayBlockingQueue<Task> queue;
    private final Thread[] readers;
    private final AtomicLong submitted = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private volatile Semaphore hold;
    private volatile boolean closed;

    ReadAhead(int threads, int queueCapacity) {
        if (threads <= 0 || queueCapacity <= 0) {
            throw new IllegalArgumentException("read-ahead needs at least one thread and one queue place");
        }
        queue = new ArrayBlockingQueue<>(queueCapacity);
        readers = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            readers[i] = Thread.ofPlatform().daemon().name("keel-read-ahead-" + i).start(this::run);
        }
    }

    /**
     * Asks for {@code length} bytes of {@code fd} from {@code offset} to be read into the page
     * cache, then for {@code done} to run on {@code loop}. The caller keeps {@code fd} open until
     * {@code done} runs. False when the queue is full or the pool closed: nothing will run.
     */
    boolean submit(EventLoop loop, int fd, long offset, long length, Runnable done) {
        if (closed || !queue.offer(new Task(loop, fd, offset, length, done))) {
            refused.incrementAndGet();
            return false;
        }
        submitted.incrementAndGet();
        return true;
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(READ_BYTES, 4096);
            while (!closed) {
                Task t;
                try {
                    t = queue.take();
                } catch (InterruptedException e) {
                    return;
                }
                read(t, buffer);
                Semaphore gate = hold;
                if (gate != null) {
                    gate.acquireUninterruptibly(); // tests: hold the answer back to watch the loop meanwhile
                }
                completed.incrementAndGet();
                handBack(t);
            }
        }
    }

    /**
     * Gives the task back to its loop. A loop whose task queue is full at this instant is asked
     * again a moment later: the answer holds a reference to the file, which only the loop may
     * let go, and the connection waits for it. A loop that has terminated takes nothing: its
     * connections, and this send, are gone with it.
     */
    private void handBack(Task t) {
        while (!closed) {
            try {
                t.loop().execute(t.done());
                return;
            } catch (RejectedExecutionException e) {
                Thread loopThread = t.loop().thread();
                if (loopThread == null || !loopThread.isAlive()) {
                    return; // terminated, not full
                }
                LockSupport.parkNanos(HAND_BACK_RETRY_NANOS);
            }
        }
    }

    private void read(Task t, MemorySegment buffer) {
        try {
            PageCache.fadvise(t.fd(), t.offset(), t.length(), POSIX_FADV_WILLNEED);
            long at = t.offset();
            long end = t.offset() + t.length();
            while (at < end) {
                long n = PageCache.pread(t.fd(), buffer, Math.min(READ_BYTES, end - at), at);
                if (n == 0) {
                    break; // the file shrank: the send finds out and aborts
                }
                if (n > 0) {
                    at += n;
                    bytes.addAndGet(n);
                }
            }
        } catch (SyscallException e) {
            // EIO and the like: the send on the loop meets the same error and handles it
        }
    }

    /** Ranges handed to readers so far. */
    long submitted() {
        return submitted.get();
    }

    /** Ranges read and handed back to their loop. */
    long completed() {
        return completed.get();
    }

    /** Ranges refused because the queue was full (sent at once instead). */
    long refused() {
        return refused.get();
    }

    /** Bytes read into the page cache. */
    long bytesRead() {
        return bytes.get();
    }

    /** Ranges waiting for a reader. */
    int queued() {
        return queue.size();
    }

    /** Tests: from now on each finished read waits for a permit of {@code gate} before its loop hears of it. */
    void holdCompletions(Semaphore gate) {
        hold = gate;
    }

    @Override
    public void close() {
        closed = true;
        Semaphore gate = hold;
        if (gate != null) {
            gate.release(Integer.MAX_VALUE / 2);
        }
        for (Thread t : readers) {
            t.interrupt();
        }
        for (Thread t : readers) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
