package dev.keel.io;

/** Hang-ups of blocked connections over the epoll transport. */
class EpollHangUpTest extends HangUpBehaviourTest {
    @Override
    Transport transport() {
        return Transport.EPOLL;
    }
}
