package dev.keel.cli;

/**
 * One flow of {@code keel load} as its loop drives it: a TCP connection ({@link LoadConnection})
 * or a UDP endpoint ({@link UdpLoadFlow}). Loop thread only.
 */
interface LoadFlow {
    /** The run starts at {@code startNanos}: a closed loop sends its first requests, a fixed rate sets its schedule. */
    void start(long startNanos);

    /** Fixed rate, the pacer's tick: sends what is due at {@code now}. */
    void pace(long now);

    /** The run is over: no new request; the flow ends once its answers are in. */
    void stop();
}
