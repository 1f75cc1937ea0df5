package dev.keel.io;

/** The outbound-connection suite over the epoll transport. */
class EpollClientTest extends ClientBehaviourTest {
    @Override
    Transport transport() {
        return Transport.EPOLL;
    }
}
