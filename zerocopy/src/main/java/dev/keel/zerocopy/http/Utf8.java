package dev.keel.zerocopy.http;

import java.lang.foreign.MemorySegment;

/**
 * Strict UTF-8 well-formedness (Unicode 15, table 3-7): the check that stops overlong
 * encodings such as {@code C0 AE} (a dot in disguise) from reaching a path, where a lenient
 * decoder further down could turn them into {@code ..}.
 */
final class Utf8 {
    private Utf8() {
    }

    /** Whether {@code [from, to)} of {@code s} is well-formed UTF-8. */
    static boolean isWellFormed(MemorySegment s, long from, long to) {
        long i = from;
        while (i < to) {
            int b = Ascii.at(s, i);
            if (b < 0x80) {
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            if (b >= 0xC2 && b <= 0xDF) {
                need = 1;
            } else if (b == 0xE0) {
                need = 2;
                lo = 0xA0; // below: overlong
            } else if (b >= 0xE1 && b <= 0xEC || b == 0xEE || b == 0xEF) {
                need = 2;
            } else if (b == 0xED) {
                need = 2;
                hi = 0x9F; // above: UTF-16 surrogates
            } else if (b == 0xF0) {
                need = 3;
                lo = 0x90; // below: overlong
            } else if (b >= 0xF1 && b <= 0xF3) {
                need = 3;
            } else if (b == 0xF4) {
                need = 3;
                hi = 0x8F; // above: past U+10FFFF
            } else {
                return false; // 80-C1 (continuation or overlong lead), F5-FF
            }
            if (i + need >= to) {
                return false; // truncated sequence
            }
            int second = Ascii.at(s, i + 1);
            if (second < lo || second > hi) {
                return false;
            }
            for (int k = 2; k <= need; k++) {
                int c = Ascii.at(s, i + k);
                if (c < 0x80 || c > 0xBF) {
                    return false;
                }
            }
            i += need + 1;
        }
        return true;
    }
}
