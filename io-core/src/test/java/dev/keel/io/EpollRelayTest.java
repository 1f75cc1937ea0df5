package dev.keel.io;

/** The relay suite over the epoll transport. */
class EpollRelayTest extends RelayBehaviourTest {
    @Override
    Transport transport() {
        return Transport.EPOLL;
    }
}
