package dev.keel.zerocopy.http;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the request-head parser with raw bytes from the network's point of view: one
 * connection's input, possibly several pipelined requests with bodies, cut into reads.
 *
 * <p>Oracles: every complete head gets the same answer as {@link HttpHeadReference} (the same
 * refusal status, or the same fields with offsets inside the head); a refusal is one of
 * 400/413/414/431/501/505, nothing else is thrown; and cutting the bytes into reads changes
 * nothing (the parser is incremental): one read, one byte per read, and every cut into two
 * reads (sampled for long inputs) give the same requests and the same end. Limits are small
 * so that the fuzzer reaches them.
 *
 * <p>Seeds and past findings: {@code src/test/resources/dev/keel/zerocopy/HttpRequestParserFuzzTestInputs}.
 */
class HttpRequestParserFuzzTest {
    static final int MAX_LINE = 64;
    static final int MAX_HEAD = 256;
    static final int MAX_FIELDS = 8;
    static final long MAX_BODY = 64;
    private static final int ALL_CUTS_UP_TO = 128;
    private static final int SAMPLED_CUTS = 32;

    @FuzzTest
    void shouldParseLikeTheReferenceHoweverTheBytesAreCut(byte[] input) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = FuzzBytes.copy(arena, input);
            long n = in.byteSize();
            ParserDriver driver = new ParserDriver(MAX_LINE, MAX_HEAD, MAX_FIELDS, MAX_BODY, arena.allocate(n + 1));
            String whole = driver.runChecked(in, n);
            int status = driver.refusedWith();
            assertTrue(status == 0 || status == 400 || status == 413 || status == 414 || status == 431
                    || status == 501 || status == 505, "refused with " + status);
            for (long head : driver.heads()) {
                assertTrue(head <= MAX_HEAD, "an accepted head of " + head + " bytes");
            }
            if (n == 0) {
                return;
            }
            long[] single = new long[(int) n];
            for (int i = 0; i < n; i++) {
                single[i] = i + 1;
            }
            assertEquals(whole, driver.run(in, single), "one byte per read");
            long step = n <= ALL_CUTS_UP_TO ? 1 : Math.max(1, n / SAMPLED_CUTS);
            for (long cut = 1; cut < n; cut += step) {
                assertEquals(whole, driver.run(in, cut, n), "two reads cut at " + cut);
            }
        }
    }
}
