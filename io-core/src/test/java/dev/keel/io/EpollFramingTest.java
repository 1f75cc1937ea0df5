package dev.keel.io;

/** The inbound-framing suite over the epoll transport. */
class EpollFramingTest extends FramingBehaviourTest {
    @Override
    Transport transport() {
        return Transport.EPOLL;
    }
}
