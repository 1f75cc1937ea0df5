package dev.keel.zerocopy.http;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Content-Type from a file name's extension, from a built-in table in the spirit of nginx's
 * {@code mime.types}; text types carry {@code charset=utf-8}. Extensions are looked up packed
 * into a long (up to eight ASCII letters, lower-cased), so a lookup allocates nothing.
 * Unknown extensions are {@code application/octet-stream}.
 */
final class ContentTypes {
    static final byte[] OCTET_STREAM = Ascii.bytes("application/octet-stream");

    private static final Map<Long, byte[]> TABLE = new HashMap<>();
    private static final long[] KEYS;
    private static final byte[][] VALUES;

    static {
        text("html", "text/html");
        text("htm", "text/html");
        text("css", "text/css");
        text("txt", "text/plain");
        text("text", "text/plain");
        text("md", "text/markdown");
        text("csv", "text/csv");
        text("xml", "text/xml");
        text("js", "text/javascript");
        text("mjs", "text/javascript");
        text("json", "application/json");
        text("map", "application/json");
        text("svg", "image/svg+xml");
        binary("png", "image/png");
        binary("jpg", "image/jpeg");
        binary("jpeg", "image/jpeg");
        binary("gif", "image/gif");
        binary("webp", "image/webp");
        binary("avif", "image/avif");
        binary("ico", "image/x-icon");
        binary("bmp", "image/bmp");
        binary("tif", "image/tiff");
        binary("tiff", "image/tiff");
        binary("woff", "font/woff");
        binary("woff2", "font/woff2");
        binary("ttf", "font/ttf");
        binary("otf", "font/otf");
        binary("wasm", "application/wasm");
        binary("pdf", "application/pdf");
        binary("zip", "application/zip");
        binary("gz", "application/gzip");
        binary("tgz", "application/gzip");
        binary("tar", "application/x-tar");
        binary("bz2", "application/x-bzip2");
        binary("xz", "application/x-xz");
        binary("zst", "application/zstd");
        binary("7z", "application/x-7z-compressed");
        binary("jar", "application/java-archive");
        binary("mp3", "audio/mpeg");
        binary("ogg", "audio/ogg");
        binary("oga", "audio/ogg");
        binary("wav", "audio/wav");
        binary("flac", "audio/flac");
        binary("m4a", "audio/mp4");
        binary("mp4", "video/mp4");
        binary("m4v", "video/mp4");
        binary("webm", "video/webm");
        binary("ogv", "video/ogg");
        binary("mov", "video/quicktime");
        binary("bin", "application/octet-stream");
        binary("iso", "application/octet-stream");
        KEYS = new long[TABLE.size()];
        VALUES = new byte[TABLE.size()][];
        int i = 0;
        for (Map.Entry<Long, byte[]> e : TABLE.entrySet()) {
            KEYS[i] = e.getKey();
            VALUES[i] = e.getValue();
            i++;
        }
    }

    private ContentTypes() {
    }

    private static void text(String ext, String type) {
        put(ext, type + "; charset=utf-8");
    }

    private static void binary(String ext, String type) {
        put(ext, type);
    }

    private static void put(String ext, String type) {
        if (ext.length() > 8) {
            return; // not representable in a packed key; such names fall back to octet-stream
        }
        long key = 0;
        for (int i = 0; i < ext.length(); i++) {
            key = key << 8 | ext.charAt(i);
        }
        TABLE.put(key, Ascii.bytes(type));
    }

    /** The type of the file whose (relative) name is {@code [0, length)} of {@code path}. */
    static byte[] of(MemorySegment path, int length) {
        long key = 0;
        int letters = 0;
        for (int i = length - 1; i >= 0; i--) {
            int b = Ascii.lower(Ascii.at(path, i));
            if (b == '.') {
                return letters == 0 ? OCTET_STREAM : lookup(key);
            }
            if (b == '/' || ++letters > 8) {
                return OCTET_STREAM;
            }
            key |= (long) b << (8 * (letters - 1));
        }
        return OCTET_STREAM;
    }

    private static byte[] lookup(long key) {
        for (int i = 0; i < KEYS.length; i++) {
            if (KEYS[i] == key) {
                return VALUES[i];
            }
        }
        return OCTET_STREAM;
    }

    /** The type for a file name given as a String, for tests. */
    static String of(String name) {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment s = arena.allocate(name.length() + 1L);
            for (int i = 0; i < name.length(); i++) {
                s.set(JAVA_BYTE, i, (byte) name.charAt(i));
            }
            return new String(of(s, name.length()), java.nio.charset.StandardCharsets.US_ASCII);
        }
    }
}
