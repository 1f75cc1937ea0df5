package dev.keel.io.stats;

import java.util.List;

/**
 * The values of one loop's {@link dev.keel.io.LoopStats} at about one moment (each read opaquely, so they
 * may be a pass apart), or the sum over the loops of a group ({@link #total}, loop -1). Counters
 * only grow; gauges (open connections, buffers in use) and capacities are as of the last pass.
 *
 * @param loop                loop index, -1 for a total
 * @param passes              loop passes run
 * @param accepted            connections accepted
 * @param closed              connections closed
 * @param rejected            accepted sockets closed unserved (table full)
 * @param acceptFailures      accept failures that paused accepting (out of descriptors or memory, or unexpected)
 * @param openConnections     connections open (gauge)
 * @param connectionCapacity  connection table slots
 * @param bytesIn             bytes received
 * @param bytesOut            bytes sent
 * @param idleTimeouts        connections closed by the idle timeout
 * @param timersFired         timing-wheel timers that fired
 * @param syscalls            system calls made by the loop thread
 * @param stalls              passes busier than the stall threshold
 * @param buffersInUse        pool buffers in use (gauge)
 * @param bufferCapacity      pool buffers
 * @param handlerFailures     handler callbacks that threw
 * @param taskFailures        tasks and timers that threw
 * @param loopFailures        failures inside a pass, survived
 * @param receiveStarvations  io_uring receives stopped for want of provided buffers
 * @param completionOverflows io_uring completion queue overflows seen
 * @param acceptAborted       accepts that failed for the one connection (ECONNABORTED, ...), accepting went on
 * @param connectsAttempted   outbound connects started
 * @param connectsSucceeded   outbound connects that opened
 * @param connectsFailed      outbound connects that failed (refused, timed out, ...)
 * @param passBusyNanos       busy time per pass, nanoseconds
 * @param syscallsPerPass     system calls per pass
 * @param datagrams           the datagram endpoints' counters
 */
public record LoopStatsSnapshot(int loop, long passes, long accepted, long closed, long rejected,
                                long acceptFailures, long openConnections, long connectionCapacity, long bytesIn,
                                long bytesOut, long idleTimeouts, long timersFired, long syscalls, long stalls,
                                long buffersInUse, long bufferCapacity, long handlerFailures, long taskFailures,
                                long loopFailures, long receiveStarvations, long completionOverflows,
                                long acceptAborted, long connectsAttempted, long connectsSucceeded,
                                long connectsFailed, HistogramSnapshot passBusyNanos,
                                HistogramSnapshot syscallsPerPass, DatagramStatsSnapshot datagrams) {

    /** The sum over {@code loops} (at least one), with loop index -1. */
    public static LoopStatsSnapshot total(List<LoopStatsSnapshot> loops) {
        if (loops.isEmpty()) {
            throw new IllegalArgumentException("no loops to add up");
        }
        LoopStatsSnapshot t = loops.getFirst();
        for (int i = 1; i < loops.size(); i++) {
            t = t.plus(loops.get(i));
        }
        return t.loop == -1 ? t : t.plus(null);
    }

    private LoopStatsSnapshot plus(LoopStatsSnapshot o) {
        if (o == null) {
            return new LoopStatsSnapshot(-1, passes, accepted, closed, rejected, acceptFailures, openConnections,
                    connectionCapacity, bytesIn, bytesOut, idleTimeouts, timersFired, syscalls, stalls, buffersInUse,
                    bufferCapacity, handlerFailures, taskFailures, loopFailures, receiveStarvations,
                    completionOverflows, acceptAborted, connectsAttempted, connectsSucceeded, connectsFailed,
                    passBusyNanos, syscallsPerPass, datagrams);
        }
        return new LoopStatsSnapshot(-1, passes + o.passes, accepted + o.accepted, closed + o.closed,
                rejected + o.rejected, acceptFailures + o.acceptFailures, openConnections + o.openConnections,
                connectionCapacity + o.connectionCapacity, bytesIn + o.bytesIn, bytesOut + o.bytesOut,
                idleTimeouts + o.idleTimeouts, timersFired + o.timersFired, syscalls + o.syscalls, stalls + o.stalls,
                buffersInUse + o.buffersInUse, bufferCapacity + o.bufferCapacity, handlerFailures + o.handlerFailures,
                taskFailures + o.taskFailures, loopFailures + o.loopFailures,
                receiveStarvations + o.receiveStarvations, completionOverflows + o.completionOverflows,
                acceptAborted + o.acceptAborted, connectsAttempted + o.connectsAttempted,
                connectsSucceeded + o.connectsSucceeded, connectsFailed + o.connectsFailed,
                passBusyNanos.plus(o.passBusyNanos), syscallsPerPass.plus(o.syscallsPerPass), datagrams.plus(o.datagrams));
    }

    /** Average system calls per pass, 0 before the first pass. */
    public double syscallsPerPassAverage() {
        return passes == 0 ? 0 : (double) syscalls / passes;
    }
}
