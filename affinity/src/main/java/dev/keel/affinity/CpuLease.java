package dev.keel.affinity;

import dev.keel.ffm.Files;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The reservation of one or more CPUs (a whole core, say) from {@link CpuReservations}: an
 * open file description lock on each CPU's lock file, held until {@link #close()} or until
 * this process ends, however it ends. Lock files are never deleted.
 *
 * <p>A lease belongs to the process, not to the thread that took it: another thread may
 * close it. It is not released by garbage collection; close it.
 */
public final class CpuLease implements Closeable {
    private final CpuSet cpus;
    private final Path[] files;
    private final int[] fds;
    private boolean closed;

    CpuLease(CpuSet cpus, Path[] files, int[] fds) {
        this.cpus = cpus;
        this.files = files.clone();
        this.fds = fds.clone();
    }

    /** The reserved CPUs. */
    public CpuSet cpus() {
        return cpus;
    }

    /** The lowest reserved CPU (the only one of a single-CPU lease). */
    public int cpu() {
        return cpus.first();
    }

    /**
     * Whether the lease still holds its locks (not yet {@link #close() closed}). Any thread; takes
     * the lease's monitor.
     */
    public synchronized boolean isHeld() {
        return !closed;
    }

    /**
     * Releases the CPUs. Each lock file is emptied first, while still locked, so it names no
     * stale holder; then closing the descriptor drops the lock. Closing twice does nothing.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException failure = null;
        for (int i = 0; i < fds.length; i++) {
            try (FileChannel ch = FileChannel.open(files[i], StandardOpenOption.WRITE)) {
                ch.truncate(0);
            } catch (IOException e) {
                failure = new UncheckedIOException("cannot clear " + files[i], e);
            } finally {
                Files.close(fds[i]);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "CpuLease[" + cpus.toList() + (closed ? ", released]" : "]");
    }
}
