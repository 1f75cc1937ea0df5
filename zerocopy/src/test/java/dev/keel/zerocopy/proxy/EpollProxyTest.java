package dev.keel.zerocopy.proxy;

import dev.keel.io.Transport;

/** The proxy suite over the epoll transport. */
class EpollProxyTest extends ProxyBehaviourTest {
    @Override
    Transport transport() {
        return Transport.EPOLL;
    }
}
