package dev.keel.zerocopy.proxy;

import dev.keel.io.Transport;

/** The proxy's back-pressure and allocation checks over the epoll transport. */
class EpollProxyFlowTest extends ProxyFlowTest {
    @Override
    Transport transport() {
        return Transport.EPOLL;
    }
}
