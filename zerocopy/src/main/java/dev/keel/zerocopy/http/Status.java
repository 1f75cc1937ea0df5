package dev.keel.zerocopy.http;

/**
 * The status codes this server answers with: their status lines, and for errors a small HTML
 * body, both as bytes made once.
 */
final class Status {
    private static final byte[][] LINES = new byte[600][];
    private static final byte[][] PAGES = new byte[600][];

    static {
        line(200, "OK");
        line(206, "Partial Content");
        line(301, "Moved Permanently");
        line(304, "Not Modified");
        line(400, "Bad Request");
        line(403, "Forbidden");
        line(404, "Not Found");
        line(405, "Method Not Allowed");
        line(408, "Request Timeout");
        line(413, "Content Too Large");
        line(414, "URI Too Long");
        line(416, "Range Not Satisfiable");
        line(431, "Request Header Fields Too Large");
        line(500, "Internal Server Error");
        line(501, "Not Implemented");
        line(503, "Service Unavailable");
        line(505, "HTTP Version Not Supported");
    }

    private Status() {
    }

    private static void line(int code, String reason) {
        LINES[code] = Ascii.bytes("HTTP/1.1 " + code + " " + reason + "\r\n");
        String title = code + " " + reason;
        PAGES[code] = Ascii.bytes("<!DOCTYPE html>\n<html><head><title>" + title + "</title></head><body><h1>"
                + title + "</h1><hr><p>keel</p></body></html>\n");
    }

    /** {@code "HTTP/1.1 404 Not Found\r\n"}. */
    static byte[] line(int code) {
        byte[] l = code >= 0 && code < LINES.length ? LINES[code] : null;
        return l != null ? l : LINES[500];
    }

    /** The HTML body sent with an error status. */
    static byte[] page(int code) {
        byte[] p = code >= 0 && code < PAGES.length ? PAGES[code] : null;
        return p != null ? p : PAGES[500];
    }

    /** Whether {@code code} is one this class knows (others are sent as 500). */
    static boolean known(int code) {
        return code >= 0 && code < LINES.length && LINES[code] != null;
    }
}
