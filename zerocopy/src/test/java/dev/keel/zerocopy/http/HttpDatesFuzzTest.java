package dev.keel.zerocopy.http;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Fuzzes HTTP date parsing (If-Modified-Since, If-Range) with raw bytes, and formatting with
 * the instants those bytes name.
 *
 * <p>Oracles: {@link HttpDates#parse} gives what {@link #reference} gives: regular expressions
 * for the three forms of RFC 9110 5.6.7 and {@code java.time} for the calendar (the parser, like
 * many servers, does not check the day name and lets a day past the month's end roll over;
 * the reference states that policy instead of hiding it); and every instant from year 0 to
 * 9999 formats as {@code java.time} formats it and parses back to itself.
 */
class HttpDatesFuzzTest {
    private static final String MONTHS = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
    private static final String TIME = "([0-9]{2}):([0-9]{2}):([0-9]{2})";
    private static final Pattern IMF = Pattern.compile("[^,]{3}, ([0-9]{2}) " + MONTHS + " ([0-9]{4}) " + TIME + " GMT");
    private static final Pattern RFC850 = Pattern.compile("([^,]{0,2}|[^,]{4,9}), ([0-9]{2})-" + MONTHS + "-([0-9]{2}) " + TIME + " GMT");
    private static final Pattern ASCTIME = Pattern.compile("[^,]{3} " + MONTHS + " ( [0-9]|[0-9]{2}) " + TIME + " ([0-9]{4})");
    private static final List<String> MONTH_NAMES = List.of("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
            "Oct", "Nov", "Dec");
    private static final long YEAR_0 = -62_167_219_200L;
    private static final long YEAR_10000 = 253_402_300_800L;
    private static final DateTimeFormatter IMF_FORMAT = DateTimeFormatter.ofPattern("EEE, dd MMM uuuu HH:mm:ss 'GMT'", Locale.US)
            .withZone(ZoneOffset.UTC);

    @FuzzTest
    void shouldParseLikeTheReferenceAndRoundTrip(byte[] input) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = FuzzBytes.copy(arena, input);
            String text = FuzzBytes.latin1(input);
            assertEquals(reference(text), HttpDates.parse(in, 0, input.length), text);
            long seconds = input.length >= 8 ? ByteBuffer.wrap(input).getLong() : text.hashCode() * 1_000_003L;
            long t = YEAR_0 + Math.floorMod(seconds, YEAR_10000 - YEAR_0);
            MemorySegment out = arena.allocate(HttpDates.LENGTH);
            assertEquals(HttpDates.LENGTH, HttpDates.format(t, out, 0));
            String formatted = FuzzBytes.text(out, 0, HttpDates.LENGTH);
            assertEquals(IMF_FORMAT.format(java.time.Instant.ofEpochSecond(t)), formatted, "format of " + t);
            assertEquals(t, HttpDates.parse(out, 0, HttpDates.LENGTH), formatted);
        }
    }

    /** The epoch seconds of {@code text}, or {@link HttpDates#INVALID}. */
    static long reference(String text) {
        Matcher m = IMF.matcher(text);
        if (m.matches()) {
            return seconds(Long.parseLong(m.group(3)), m.group(2), m.group(1), m, 4);
        }
        m = RFC850.matcher(text);
        if (m.matches()) {
            long yy = Long.parseLong(m.group(4));
            return seconds(yy + (yy < 70 ? 2000 : 1900), m.group(3), m.group(2), m, 5);
        }
        m = ASCTIME.matcher(text);
        if (m.matches()) {
            return seconds(Long.parseLong(m.group(6)), m.group(1), m.group(2).trim(), m, 3);
        }
        return HttpDates.INVALID;
    }

    private static long seconds(long year, String month, String day, Matcher m, int timeGroup) {
        int d = Integer.parseInt(day);
        int hh = Integer.parseInt(m.group(timeGroup));
        int mm = Integer.parseInt(m.group(timeGroup + 1));
        int ss = Integer.parseInt(m.group(timeGroup + 2));
        if (d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) {
            return HttpDates.INVALID;
        }
        LocalDate first = LocalDate.of((int) year, MONTH_NAMES.indexOf(month) + 1, 1);
        return first.plusDays(d - 1).toEpochDay() * 86_400 + hh * 3600L + mm * 60L + ss;
    }
}
