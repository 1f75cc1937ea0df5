package dev.keel.io;

import dev.keel.io.loop.TimingWheel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimingWheelTest {
    private static final long TICK = 10_000_000L;

    @Test
    void shouldFireEveryTimerAtOrAfterItsDeadlineAndNeverEarly() {
        Random random = new Random(1);
        TimingWheel wheel = new TimingWheel(TICK, 64, 10_000, 0);
        long[] due = new long[10_000];
        for (int i = 0; i < 5_000; i++) {
            long now = random.nextInt(5) * 1_000_000L;
            long delay = random.nextLong(5_000_000_000L);
            int id = wheel.schedule(now, delay, 1, i, 0);
            due[i] = now + delay;
            assertTrue(id >= 0);
        }
        List<Integer> fired = new ArrayList<>();
        for (long now = 0; now <= 6_000_000_000L; now += 3_000_000L) {
            long t = now;
            wheel.advance(now, (id, kind, a, b) -> {
                assertTrue(t >= due[a], "timer " + a + " fired at " + t + " before " + due[a]);
                assertTrue(t - due[a] < TICK + 3_000_000L, "timer " + a + " fired late at " + t);
                fired.add(a);
            });
        }
        assertEquals(5_000, fired.size());
        assertEquals(0, wheel.active());
    }

    @Test
    void shouldNotFireACancelledTimerAndReuseItsId() {
        TimingWheel wheel = new TimingWheel(TICK, 8, 2, 0);
        int a = wheel.schedule(0, 50_000_000L, 1, 1, 0);
        int b = wheel.schedule(0, 50_000_000L, 1, 2, 0);
        assertEquals(-1, wheel.schedule(0, 1, 1, 3, 0), "capacity is bounded");
        assertTrue(wheel.cancel(a));
        assertFalse(wheel.cancel(a), "a timer cancels once");
        List<Integer> fired = new ArrayList<>();
        wheel.advance(100_000_000L, (id, kind, pa, pb) -> fired.add(pa));
        assertEquals(List.of(2), fired);
        assertFalse(wheel.cancel(b), "a fired timer cannot be cancelled");
        assertTrue(wheel.schedule(100_000_000L, 1, 1, 4, 0) >= 0, "ids come back");
    }

    @Test
    void shouldSurviveACallbackThatCancelsTheNextTimerInItsSlot() {
        TimingWheel wheel = new TimingWheel(TICK, 8, 16, 0);
        int[] ids = new int[4];
        for (int i = 0; i < 4; i++) {
            ids[i] = wheel.schedule(0, 20_000_000L, 1, i, 0);
        }
        List<Integer> fired = new ArrayList<>();
        wheel.advance(30_000_000L, (id, kind, a, b) -> {
            fired.add(a);
            for (int other : ids) {
                wheel.cancel(other);
            }
        });
        assertEquals(1, fired.size(), "the first callback cancelled the rest");
        assertEquals(0, wheel.active());
    }
}
