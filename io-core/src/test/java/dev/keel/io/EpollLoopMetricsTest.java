package dev.keel.io;

/** The loop metrics suite over the epoll transport. */
class EpollLoopMetricsTest extends LoopMetricsBehaviourTest {
    @Override
    Transport transport() {
        return Transport.EPOLL;
    }
}
