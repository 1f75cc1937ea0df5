package dev.keel.bench.echo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The two tables bench/echo-plot.gp draws, one row per scenario and one column per server:
 * {@code rel.dat}, median req/s relative to C epoll, and {@code p99.dat}, median p99 latency
 * in µs; and {@code caption.txt}, the busy-poll rows left out of the first. A server with no
 * result in a scenario gets {@code ?}, which gnuplot leaves out.
 */
final class EchoPlotData {
    private EchoPlotData() {
    }

    static void write(EchoResults r, Path dir) throws IOException {
        write(r, dir, r.scenarios().stream().filter(s -> !s.equals(EchoResults.IDLE)).toList());
    }

    /** The tables of these scenarios only (one message size of the echo matrix). */
    static void write(EchoResults r, Path dir, List<String> scenarios) throws IOException {
        Files.createDirectories(dir);
        List<String> servers = r.servers().stream()
                .filter(server -> scenarios.stream().anyMatch(s -> r.has(server, s))).toList();
        writeRelative(r, dir, scenarios, servers.stream().filter(s -> !s.endsWith("+busy")).toList());
        writeP99(r, dir, scenarios, servers);
        Files.writeString(dir.resolve("caption.txt"), busyCaption(r, servers));
    }

    /**
     * The busy-poll rows spin and run ping-pong only; at 3-4x C's req/s they would flatten every
     * other bar of the relative plot, so they are named in its title instead of drawn.
     */
    private static String busyCaption(EchoResults r, List<String> servers) {
        OptionalDouble c = r.median(EchoTargets.C, "pingpong", "rps");
        StringBuilder sb = new StringBuilder();
        for (String server : servers) {
            OptionalDouble v = r.median(server, "pingpong", "rps");
            if (server.endsWith("+busy") && v.isPresent() && c.isPresent()) {
                sb.append(sb.isEmpty() ? "busy-poll ping-pong, not drawn: " : ", ")
                        .append(server).append(String.format(" %.2fx", v.getAsDouble() / c.getAsDouble()));
            }
        }
        return sb.toString();
    }

    private static void writeRelative(EchoResults r, Path dir, List<String> scenarios, List<String> servers)
            throws IOException {
        StringBuilder rel = header(servers);
        for (String s : scenarios) {
            OptionalDouble c = r.median(EchoTargets.C, s, "rps");
            String tic = shortLabel(s) + (c.isPresent() ? "\\nC " + EchoReport.amount(c.getAsDouble()).replace(" ", "") + "/s" : "");
            rel.append('"').append(tic).append('"');
            for (String server : servers) {
                OptionalDouble v = r.median(server, s, "rps");
                rel.append(' ').append(v.isPresent() && c.isPresent() ? String.format("%.3f", v.getAsDouble() / c.getAsDouble()) : "?");
            }
            rel.append('\n');
        }
        Files.writeString(dir.resolve("rel.dat"), rel);
    }

    private static void writeP99(EchoResults r, Path dir, List<String> scenarios, List<String> servers) throws IOException {
        StringBuilder p99 = header(servers);
        for (String s : scenarios) {
            p99.append('"').append(shortLabel(s)).append('"');
            for (String server : servers) {
                OptionalDouble l = r.median(server, s, "p99_us");
                p99.append(' ').append(l.isPresent() ? String.format("%.1f", l.getAsDouble()) : "?");
            }
            p99.append('\n');
        }
        Files.writeString(dir.resolve("p99.dat"), p99);
    }

    private static StringBuilder header(List<String> servers) {
        StringBuilder sb = new StringBuilder("scenario");
        for (String server : servers) {
            sb.append(" \"").append(server).append('"');
        }
        return sb.append('\n');
    }

    private static String shortLabel(String s) {
        return switch (s) {
            case "pingpong" -> "ping-pong";
            case "64x16" -> "64x16 x 64 B";
            case "16k" -> "16x4 x 16 KiB";
            default -> s.startsWith("sweep-") || s.startsWith("m-")
                    ? String.format("%,d conns", Integer.parseInt(s.split("-")[1])) : s;
        };
    }
}
