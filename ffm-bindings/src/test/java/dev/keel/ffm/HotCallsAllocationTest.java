package dev.keel.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * sendmmsg and recvmmsg, the calls an epoll loop makes per datagram batch, allocate nothing by
 * construction, not only once C2 has compiled them well: {@link HotCallsProbe} makes them in an
 * interpreted JVM ({@code -Xint}), where a downcall that captures errno allocates the slice of
 * its capture segment on every call (the control, epoll_wait, shows it), and they must allocate
 * nothing there.
 */
class HotCallsAllocationTest {
    @Test
    @Timeout(120)
    void shouldAllocateNothingInTheHotCallsEvenInterpreted() throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(List.of(javaBin, "-Xint", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), HotCallsProbe.class.getName()))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the probe exits");
        assertEquals(0, p.exitValue(), out);
        Map<String, Long> bytes = new HashMap<>();
        for (String line : out.split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length == 2 && f[1].matches("\\d+")) {
                bytes.put(f[0], Long.parseLong(f[1]));
            }
        }
        assertTrue(bytes.get("epoll_wait_capturing") >= HotCallsProbe.CALLS * 16L,
                "the control: a capturing call allocates when interpreted\n" + out);
        assertEquals(0L, bytes.get("sendmmsg_recvmmsg"), "sendmmsg and recvmmsg allocated\n" + out);
    }
}
