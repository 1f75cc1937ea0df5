package dev.keel.zerocopy.http;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * HTTP dates (RFC 9110 5.6.7) without {@code java.time}: formatting of IMF-fixdate
 * ({@code Sun, 06 Nov 1994 08:49:37 GMT}, always 29 bytes) and parsing of the three forms a
 * recipient must accept (IMF-fixdate, RFC 850, asctime), all on bytes, allocating nothing.
 * The calendar arithmetic is Howard Hinnant's days-from-civil algorithm.
 */
final class HttpDates {
    /** Bytes of an IMF-fixdate. */
    static final int LENGTH = 29;
    /** What {@link #parse} returns for text that is not a date. */
    static final long INVALID = Long.MIN_VALUE;

    private static final byte[] DAYS = Ascii.bytes("ThuFriSatSunMonTueWed"); // 1970-01-01 was a Thursday
    private static final byte[] MONTHS = Ascii.bytes("JanFebMarAprMayJunJulAugSepOctNovDec");
    private static final byte[] GMT = Ascii.bytes("GMT");

    private HttpDates() {
    }

    /** Writes {@code epochSeconds} as an IMF-fixdate at {@code at}; returns {@code at + 29}. */
    static long format(long epochSeconds, MemorySegment s, long at) {
        long days = Math.floorDiv(epochSeconds, 86_400);
        int secs = (int) Math.floorMod(epochSeconds, 86_400);
        int dow = (int) Math.floorMod(days, 7);
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        int day = (int) (doy - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
        MemorySegment.copy(DAYS, dow * 3, s, JAVA_BYTE, at, 3);
        s.set(JAVA_BYTE, at + 3, (byte) ',');
        s.set(JAVA_BYTE, at + 4, (byte) ' ');
        two(s, at + 5, day);
        s.set(JAVA_BYTE, at + 7, (byte) ' ');
        MemorySegment.copy(MONTHS, (month - 1) * 3, s, JAVA_BYTE, at + 8, 3);
        s.set(JAVA_BYTE, at + 11, (byte) ' ');
        two(s, at + 12, (int) (year / 100 % 100));
        two(s, at + 14, (int) (year % 100));
        s.set(JAVA_BYTE, at + 16, (byte) ' ');
        two(s, at + 17, secs / 3600);
        s.set(JAVA_BYTE, at + 19, (byte) ':');
        two(s, at + 20, secs / 60 % 60);
        s.set(JAVA_BYTE, at + 22, (byte) ':');
        two(s, at + 23, secs % 60);
        s.set(JAVA_BYTE, at + 25, (byte) ' ');
        MemorySegment.copy(GMT, 0, s, JAVA_BYTE, at + 26, 3);
        return at + LENGTH;
    }

    private static void two(MemorySegment s, long at, int v) {
        s.set(JAVA_BYTE, at, (byte) ('0' + v / 10));
        s.set(JAVA_BYTE, at + 1, (byte) ('0' + v % 10));
    }

    /** The epoch seconds of the HTTP date in {@code [from, to)}, or {@link #INVALID}. */
    static long parse(MemorySegment s, long from, long to) {
        long comma = Ascii.indexOf(s, from, Math.min(to, from + 10), (byte) ',');
        if (comma < 0) {
            return asctime(s, from, to);
        }
        long p = comma + 1;
        if (p >= to || s.get(JAVA_BYTE, p) != ' ') {
            return INVALID;
        }
        p++;
        if (comma - from == 3) {
            // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
            if (to - p != 24 || s.get(JAVA_BYTE, p + 2) != ' ' || s.get(JAVA_BYTE, p + 6) != ' '
                    || s.get(JAVA_BYTE, p + 11) != ' ' || s.get(JAVA_BYTE, p + 20) != ' ') {
                return INVALID;
            }
            return assemble(number(s, p + 7, 4), month(s, p + 3), number(s, p, 2), s, p + 12, p + 21, to);
        }
        // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
        if (to - p != 22 || s.get(JAVA_BYTE, p + 2) != '-' || s.get(JAVA_BYTE, p + 6) != '-'
                || s.get(JAVA_BYTE, p + 9) != ' ' || s.get(JAVA_BYTE, p + 18) != ' ') {
            return INVALID;
        }
        long yy = number(s, p + 7, 2);
        if (yy < 0) {
            return INVALID;
        }
        // RFC 9110 5.6.7: a two-digit year more than 50 years in the future is in the past.
        long year = yy + (yy < 70 ? 2000 : 1900);
        return assemble(year, month(s, p + 3), number(s, p, 2), s, p + 10, p + 19, to);
    }

    /** asctime: "Sun Nov  6 08:49:37 1994". */
    private static long asctime(MemorySegment s, long from, long to) {
        if (to - from != 24 || s.get(JAVA_BYTE, from + 3) != ' ' || s.get(JAVA_BYTE, from + 7) != ' '
                || s.get(JAVA_BYTE, from + 10) != ' ' || s.get(JAVA_BYTE, from + 19) != ' ') {
            return INVALID;
        }
        long day = s.get(JAVA_BYTE, from + 8) == ' ' ? number(s, from + 9, 1) : number(s, from + 8, 2);
        return assemble(number(s, from + 20, 4), month(s, from + 4), day, s, from + 11, to, to);
    }

    /** Checks the fields and the "HH:MM:SS" at {@code time}, and "GMT" at {@code gmt} unless it is {@code to}. */
    private static long assemble(long year, int month, long day, MemorySegment s, long time, long gmt, long to) {
        if (year < 0 || month < 0 || day < 1 || day > 31) {
            return INVALID;
        }
        if (s.get(JAVA_BYTE, time + 2) != ':' || s.get(JAVA_BYTE, time + 5) != ':') {
            return INVALID;
        }
        long hh = number(s, time, 2);
        long mm = number(s, time + 3, 2);
        long ss = number(s, time + 6, 2);
        if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60) {
            return INVALID;
        }
        if (gmt != to && !Ascii.equals(s, gmt, to, GMT)) {
            return INVALID;
        }
        return daysFromCivil(year, month + 1, (int) day) * 86_400 + hh * 3600 + mm * 60 + ss;
    }

    private static long number(MemorySegment s, long at, int digits) {
        return Ascii.parseDecimal(s, at, at + digits);
    }

    /** 0-based month of the three letters at {@code at}, or -1. */
    private static int month(MemorySegment s, long at) {
        for (int m = 0; m < 12; m++) {
            if (s.get(JAVA_BYTE, at) == MONTHS[m * 3] && s.get(JAVA_BYTE, at + 1) == MONTHS[m * 3 + 1]
                    && s.get(JAVA_BYTE, at + 2) == MONTHS[m * 3 + 2]) {
                return m;
            }
        }
        return -1;
    }

    static long daysFromCivil(long year, int month, int day) {
        long y = month <= 2 ? year - 1 : year;
        long era = Math.floorDiv(y, 400);
        long yoe = y - era * 400;
        long doy = (153L * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146_097 + doe - 719_468;
    }
}
