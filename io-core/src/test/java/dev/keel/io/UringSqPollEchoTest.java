package dev.keel.io;

import org.junit.jupiter.api.BeforeAll;

import java.time.Duration;

/**
 * The io-core behaviour suite over io_uring with a kernel SQPOLL thread and rings so small
 * (8 SQ entries, 64 CQ entries) that the submission queue fills and the completion queue
 * overflows under load: nothing may be lost either way.
 */
class UringSqPollEchoTest extends EchoBehaviourTest {
    @BeforeAll
    static void kernelRunsIoUring() {
        UringTests.assumeIoUring();
    }

    @Override
    Transport transport() {
        return Transport.IO_URING;
    }

    @Override
    LoopOptions.Builder options() {
        return LoopOptions.builder().sqPoll(Duration.ofMillis(20), -1);
    }
}
