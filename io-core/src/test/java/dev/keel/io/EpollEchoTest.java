package dev.keel.io;

/** The io-core behaviour suite over the epoll transport. */
class EpollEchoTest extends EchoBehaviourTest {
    @Override
    Transport transport() {
        return Transport.EPOLL;
    }
}
