package dev.keel.zerocopy.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The lines a child process prints, read on a daemon thread and waited for with a time limit:
 * a test that expects a line fails when it does not come in time (or the process ends without
 * it), saying what came instead, where a plain {@code readLine} on the pipe would block forever
 * and no JUnit timeout could interrupt it.
 *
 * <p>Bounded: at most {@link #CAPACITY} unread lines wait (past that the reader waits, as the
 * pipe would), and the last {@link #KEPT} lines read are kept for failure messages.
 */
public final class ProcessLines {
    /** Unread lines held at most. */
    public static final int CAPACITY = 10_000;
    /** Lines kept for failure messages. */
    public static final int KEPT = 40;
    /** Put in the queue when the stream ends (compared by identity). */
    private static final String END = new String("<end of output>");

    private final BlockingQueue<String> queue = new ArrayBlockingQueue<>(CAPACITY);
    private final ArrayDeque<String> recent = new ArrayDeque<>();
    private final String name;
    private boolean ended;

    /** Starts reading {@code in} (UTF-8) on a daemon thread named after {@code name}. */
    public ProcessLines(InputStream in, String name) {
        this.name = name;
        Thread.ofPlatform().daemon().name("lines-of-" + name).start(() -> pump(in));
    }

    private void pump(InputStream in) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                queue.put(line);
            }
        } catch (IOException | InterruptedException e) {
            // the stream was closed under us, or the test ended: the end of output all the same
        } finally {
            try {
                queue.put(END);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The first line a child prints on {@code in} (a ready line), waited for at most
     * {@code limit}; null when its output ended first (it exited), as {@code readLine} says.
     *
     * @throws AssertionError when no line came in time
     */
    public static String firstLine(InputStream in, String name, Duration limit) throws InterruptedException {
        ProcessLines lines = new ProcessLines(in, name);
        String line = lines.queue.poll(limit.toNanos(), TimeUnit.NANOSECONDS);
        if (line == null) {
            throw new AssertionError("no line from " + name + " within " + limit);
        }
        return line == END ? null : line;
    }

    /**
     * The next line, waiting at most {@code limit}.
     *
     * @throws AssertionError when no line came in time or the output ended, with the last lines seen
     */
    public String next(Duration limit) throws InterruptedException {
        String line = ended ? END : queue.poll(limit.toNanos(), TimeUnit.NANOSECONDS);
        if (line == null) {
            throw new AssertionError("no line from " + name + " within " + limit + "; last lines: " + recent());
        }
        if (line == END) {
            ended = true;
            throw new AssertionError(name + " ended its output; last lines: " + recent());
        }
        synchronized (recent) {
            if (recent.size() == KEPT) {
                recent.removeFirst();
            }
            recent.addLast(line);
        }
        return line;
    }

    /** The next line containing {@code text}, the others skipped, all within {@code limit}. */
    public String await(String text, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            String line = next(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            if (line.contains(text)) {
                return line;
            }
        }
    }

    /** Every line read and not yet taken, without waiting (for a failure message). */
    public String drain() {
        StringBuilder sb = new StringBuilder();
        String line;
        while ((line = queue.poll()) != null) {
            if (line == END) {
                ended = true;
                break;
            }
            sb.append(line).append('\n');
        }
        return sb.toString();
    }

    /** The last lines taken, oldest first. */
    public String recent() {
        synchronized (recent) {
            return String.join("\n", recent);
        }
    }
}
