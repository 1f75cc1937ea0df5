package dev.keel.io;

import org.junit.jupiter.api.BeforeAll;

/** The loop metrics suite over the io_uring transport. */
class UringLoopMetricsTest extends LoopMetricsBehaviourTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        UringTests.assumeIoUring();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }
}
