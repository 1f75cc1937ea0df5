package dev.keel.io;

import dev.keel.io.codec.DelimiterFramer;
import dev.keel.io.codec.FrameHandler;
import dev.keel.io.codec.LengthFieldFramer;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every callback of {@link ConnectionHandler} — those added later too, found by reflection —
 * reaches the application's handler through each wrapper that is not meant to take it: the
 * framers (all but {@code onData}, which they turn into frames) and the {@link ForwardingHandler}
 * base itself. A wrapper that forgot one (as the framers once forgot {@code onFileSent}, so a
 * framed connection sending a file never heard that it was sent) fails here.
 */
class ForwardingHandlerTest {

    @Test
    void framersForwardEveryCallbackButData() throws Exception {
        check(h -> LengthFieldFramer.builder().build(h), "onData");
        check(h -> DelimiterFramer.lines(1024, h), "onData");
    }

    @Test
    void forwardingHandlerForwardsEveryCallback() throws Exception {
        check(h -> new ForwardingHandler(h) { }, "");
    }

    private static void check(Function<FrameHandler, ConnectionHandler> wrap, String taken) throws Exception {
        for (Method m : ConnectionHandler.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || m.getName().equals(taken)) {
                continue;
            }
            List<String> seen = new ArrayList<>();
            FrameHandler app = (FrameHandler) Proxy.newProxyInstance(FrameHandler.class.getClassLoader(),
                    new Class<?>[] {FrameHandler.class}, (proxy, called, args) -> {
                        seen.add(called.getName());
                        return null;
                    });
            ConnectionHandler wrapper = wrap.apply(app);
            m.invoke(wrapper, arguments(m));
            assertEquals(List.of(m.getName()), seen, wrapper.getClass().getSimpleName() + " forwards " + m.getName());
        }
    }

    private static Object[] arguments(Method m) {
        Object[] args = new Object[m.getParameterCount()];
        Class<?>[] types = m.getParameterTypes();
        for (int i = 0; i < args.length; i++) {
            if (types[i] == int.class) {
                args[i] = 0;
            } else if (types[i] == long.class) {
                args[i] = 0L;
            }
        }
        return args;
    }
}
