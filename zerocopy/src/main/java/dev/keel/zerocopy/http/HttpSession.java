package dev.keel.zerocopy.http;

import dev.keel.io.Connection;
import dev.keel.zerocopy.tls.TlsConnection;

import java.lang.foreign.MemorySegment;

/**
 * What the server remembers about one connection between callbacks: input not yet consumed
 * (a head split across reads, pipelined requests waiting their turn), the answer in progress
 * (a file, a part of a multipart answer, or output waiting to drain), and the keep-alive
 * bookkeeping. Pooled per loop and attached to the connection, so a new connection costs no
 * allocation once the pool is warm.
 */
final class HttpSession {
    /** No answer in progress: requests are parsed and answered as they come. */
    static final int IDLE = 0;
    /** A file body (or one part of a multipart body) is being sent. */
    static final int SENDING = 1;
    /** Answers were queued past the drain threshold; waiting for the socket to take them. */
    static final int DRAINING = 2;

    Connection connection;
    /** Input kept across calls, from the loop's buffer pool; null when there is none. */
    MemorySegment input;
    int inputLength;
    /** Bytes of the pending head already scanned for its end. */
    int scanned;
    /** Request body bytes still to discard. */
    long bodyToSkip;
    int requests;
    int phase;
    boolean readPaused;
    boolean inputClosed;
    /** Close once the answer in progress has been sent. */
    boolean closeAfter;
    /** The connection is gone or going: nothing more is written. */
    boolean done;
    /** Inside the parse loop: an answer finishing there must not start a second, nested one. */
    boolean consuming;
    /** The connection's TLS engine on an HTTPS server, else null. */
    TlsConnection tls;
    /** The body's next chunk is being read into the page cache off the loop ({@link ReadAhead}). */
    boolean awaitingDisk;

    /** The file of the answer in progress, held until its region is over or the connection closed. */
    CachedFile file;
    /** The region of that file still to send: its next byte and how many are left (HTTPS, read-ahead chunks). */
    long sendPosition;
    long sendRemaining;
    /** Multipart answer: the ranges, the part being sent, and whether its head went out. */
    long[] partFirst;
    long[] partLast;
    int parts;
    int part;
    boolean partHeadSent;
    /** Peer address for the access log, formatted at open; empty when the log is off. */
    final byte[] peer = new byte[48];
    int peerLength;
    /** Header timeout: whether a head is in progress, since when, and its neighbours in {@link HeaderDeadlines}. */
    boolean headTimed;
    long headStartNanos;
    HttpSession headPrev;
    HttpSession headNext;

    void open(Connection c) {
        connection = c;
        inputLength = 0;
        scanned = 0;
        bodyToSkip = 0;
        requests = 0;
        phase = IDLE;
        readPaused = false;
        inputClosed = false;
        closeAfter = false;
        done = false;
        consuming = false;
        awaitingDisk = false;
        parts = 0;
        part = 0;
        partHeadSent = false;
        peerLength = 0;
        headTimed = false;
        headPrev = null;
        headNext = null;
    }

    void ensureParts(int n) {
        if (partFirst == null || partFirst.length < n) {
            partFirst = new long[Math.max(n, 16)];
            partLast = new long[Math.max(n, 16)];
        }
    }
}
