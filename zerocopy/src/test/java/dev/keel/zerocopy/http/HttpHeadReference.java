package dev.keel.zerocopy.http;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.keel.zerocopy.http.FuzzBytes.asciiLower;
import static dev.keel.zerocopy.http.FuzzBytes.trimOws;

/**
 * The request-head rules of {@link HttpRequestParser} restated the plain way, over Strings and
 * regular expressions, as the second opinion of a differential fuzz test. It is written from
 * RFC 9112 and the parser's Javadoc, not from its loops: where the two disagree on any input,
 * one of them is wrong.
 *
 * <p>Both produce the same {@link #summary} text, or {@code "E<status>"} for a refusal.
 */
final class HttpHeadReference {
    private static final String TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
    private static final Pattern REQUEST_LINE = Pattern.compile("(" + TCHAR + "+) ([\\x21-\\x7E]+) HTTP/([0-9])\\.([0-9])");
    private static final Pattern FIELD = Pattern.compile("(" + TCHAR + "+):([\\s\\S]*)");
    private static final Pattern CONTROL = Pattern.compile("[\\x00-\\x08\\x0A-\\x1F\\x7F]");

    private HttpHeadReference() {
    }

    /** Where the head starting at {@code from} ends (just past its empty line), or -1. */
    static int headEnd(String text, int from) {
        int a = text.indexOf("\n\n", from);
        int b = text.indexOf("\n\r\n", from);
        if (a < 0 && b < 0) {
            return -1;
        }
        if (b < 0 || a >= 0 && a < b) {
            return a + 2;
        }
        return b + 3;
    }

    /** The outcome of the complete head {@code head} under the given limits. */
    static String parse(String head, int maxLine, int maxHead, int maxFields) {
        String[] lines = head.split("\n", -1);
        String requestLine = stripCr(lines[0]);
        if (requestLine.length() > maxLine) {
            return "E414";
        }
        Matcher m = REQUEST_LINE.matcher(requestLine);
        if (!m.matches()) {
            return "E400";
        }
        if (!m.group(3).equals("1")) {
            return "E505";
        }
        if (head.length() > maxHead) {
            return "E431";
        }
        Fields f = new Fields();
        int count = 0;
        for (int i = 1; i < lines.length; i++) {
            String line = stripCr(lines[i]);
            if (line.isEmpty()) {
                break;
            }
            if (++count > maxFields) {
                return "E431";
            }
            Matcher fm = FIELD.matcher(line);
            if (!fm.matches() || CONTROL.matcher(fm.group(2)).find()) {
                return "E400";
            }
            if (!f.add(asciiLower(fm.group(1)), trimOws(fm.group(2)))) {
                return "E400";
            }
        }
        int minor = m.group(4).equals("0") ? 0 : 1;
        if (minor == 1 && f.hosts != 1 || f.hosts > 1 || f.chunked && f.contentLength >= 0) {
            return "E400";
        }
        return summary(methodClass(m.group(1)), m.group(2), minor, f.hosts, f.close, f.keepAlive, f.contentLength,
                f.chunked, f.range, f.ifRange, f.ifNoneMatch, f.ifModifiedSince);
    }

    /** The outcome text of the parser's flyweight after a successful parse. */
    static String summary(HttpRequest r) {
        MemorySegmentText t = new MemorySegmentText(r);
        return summary(r.method, t.of(r.targetStart, r.targetEnd), r.minorVersion, r.hostCount, r.connectionClose,
                r.connectionKeepAlive, r.contentLength, r.transferEncoding, t.of(r.rangeStart, r.rangeEnd),
                t.of(r.ifRangeStart, r.ifRangeEnd), t.of(r.ifNoneMatchStart, r.ifNoneMatchEnd),
                t.of(r.ifModifiedSinceStart, r.ifModifiedSinceEnd));
    }

    private static String summary(int method, String target, int minor, int hosts, boolean close, boolean keepAlive,
            long contentLength, boolean chunked, String range, String ifRange, String ifNoneMatch, String ims) {
        return "method=" + method + " target=" + target + " minor=" + minor + " hosts=" + hosts + " close=" + close
                + " keepAlive=" + keepAlive + " length=" + contentLength + " te=" + chunked + " range=" + show(range)
                + " ifRange=" + show(ifRange) + " ifNoneMatch=" + show(ifNoneMatch) + " ims=" + show(ims);
    }

    private static String show(String value) {
        return value == null ? "absent" : "'" + value + "'";
    }

    private static int methodClass(String method) {
        return switch (method) {
            case "GET" -> HttpRequest.GET;
            case "HEAD" -> HttpRequest.HEAD;
            case "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "CONNECT" -> HttpRequest.OTHER;
            default -> HttpRequest.UNKNOWN;
        };
    }

    private static String stripCr(String line) {
        return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
    }

    /** The fields the parser acts on, with their duplicate rules. */
    private static final class Fields {
        int hosts;
        boolean close;
        boolean keepAlive;
        long contentLength = -1;
        boolean chunked;
        String range;
        String ifRange;
        String ifNoneMatch;
        String ifModifiedSince;

        /** False when the field makes the request invalid. */
        boolean add(String name, String value) {
            switch (name) {
                case "host" -> hosts++;
                case "transfer-encoding" -> chunked = true;
                case "connection" -> {
                    for (String token : value.split(",", -1)) {
                        String t = asciiLower(trimOws(token));
                        close |= t.equals("close");
                        keepAlive |= t.equals("keep-alive");
                    }
                }
                case "content-length" -> {
                    long n = FuzzBytes.decimal(value);
                    if (n < 0 || contentLength >= 0 && contentLength != n) {
                        return false;
                    }
                    contentLength = n;
                }
                case "range" -> {
                    if (range != null) {
                        return false;
                    }
                    range = value;
                }
                case "if-range" -> {
                    if (ifRange != null) {
                        return false;
                    }
                    ifRange = value;
                }
                case "if-none-match" -> {
                    if (ifNoneMatch != null) {
                        return false;
                    }
                    ifNoneMatch = value;
                }
                case "if-modified-since" -> {
                    if (ifModifiedSince != null) {
                        return false;
                    }
                    ifModifiedSince = value;
                }
                default -> {
                    // not acted on
                }
            }
            return true;
        }
    }

    /** Reads the flyweight's offsets back as text; an absent header is null, as in the reference. */
    private record MemorySegmentText(HttpRequest r) {
        String of(long from, long to) {
            return from == HttpRequest.NONE ? null : FuzzBytes.text(r.source, from, to);
        }
    }
}
