package dev.keel.io;

/** The application-timer suite over the epoll transport. */
class EpollTimersTest extends TimersBehaviourTest {
    @Override
    Transport transport() {
        return Transport.EPOLL;
    }
}
