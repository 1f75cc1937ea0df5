package dev.keel.bench.affinity;

import dev.keel.affinity.Affinity;
import dev.keel.ffm.Sched;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.BitSet;
import java.util.concurrent.TimeUnit;

/**
 * What pinning costs in keel against OpenHFT Java-Thread-Affinity (JNA): reading the current
 * CPU, and pinning the thread then reading the CPU back. Both pin to the CPU the thread is on,
 * so no migration is measured, only the calls.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PinBench {
    private int cpu;
    private BitSet openhftMask;

    @Setup
    public void setUp() {
        cpu = Sched.getcpu();
        openhftMask = new BitSet();
        openhftMask.set(cpu);
    }

    @Benchmark
    public int keelGetcpu() {
        return Sched.getcpu();
    }

    @Benchmark
    public int openhftGetcpu() {
        return net.openhft.affinity.Affinity.getCpu();
    }

    /** keel: sched_setaffinity, then sched_getcpu to confirm where the thread runs. */
    @Benchmark
    public int keelPinAndReadBack() {
        return Affinity.pinCurrentThread(cpu);
    }

    /** OpenHFT: setAffinity(BitSet), then getCpu() for the same confirmation. */
    @Benchmark
    public int openhftPinAndReadBack() {
        net.openhft.affinity.Affinity.setAffinity(openhftMask);
        return net.openhft.affinity.Affinity.getCpu();
    }
}
