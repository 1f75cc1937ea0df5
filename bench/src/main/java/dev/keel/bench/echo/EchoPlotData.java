package dev.keel.bench.echo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The two tables bench/echo-plot.gp draws, one row per scenario and one column per server:
 * {@code rel.dat}, median req/s relative to C epoll, and {@code p99.dat}, median p99 latency
 * in µs. A server with no result in a scenario gets {@code ?}, which gnuplot leaves out.
 */
final class EchoPlotData {
    private EchoPlotData() {
    }

    static void write(EchoResults r, Path dir) throws IOException {
        Files.createDirectories(dir);
        List<String> scenarios = r.scenarios().stream().filter(s -> !s.equals(EchoResults.IDLE)).toList();
        List<String> servers = r.servers().stream()
                .filter(server -> scenarios.stream().anyMatch(s -> r.has(server, s))).toList();
        StringBuilder rel = new StringBuilder("scenario");
        StringBuilder p99 = new StringBuilder("scenario");
        for (String server : servers) {
            rel.append(" \"").append(server).append('"');
            p99.append(" \"").append(server).append('"');
        }
        rel.append('\n');
        p99.append('\n');
        for (String s : scenarios) {
            OptionalDouble c = r.median(EchoTargets.C, s, "rps");
            String tic = shortLabel(s) + (c.isPresent() ? "\\nC " + EchoReport.amount(c.getAsDouble()).replace(" ", "") + "/s" : "");
            rel.append('"').append(tic).append('"');
            p99.append('"').append(shortLabel(s)).append('"');
            for (String server : servers) {
                OptionalDouble v = r.median(server, s, "rps");
                rel.append(' ').append(v.isPresent() && c.isPresent() ? String.format("%.3f", v.getAsDouble() / c.getAsDouble()) : "?");
                OptionalDouble l = r.median(server, s, "p99_us");
                p99.append(' ').append(l.isPresent() ? String.format("%.1f", l.getAsDouble()) : "?");
            }
            rel.append('\n');
            p99.append('\n');
        }
        Files.writeString(dir.resolve("rel.dat"), rel);
        Files.writeString(dir.resolve("p99.dat"), p99);
    }

    private static String shortLabel(String s) {
        return switch (s) {
            case "pingpong" -> "ping-pong";
            case "64x16" -> "64x16 x 64 B";
            case "16k" -> "16x4 x 16 KiB";
            default -> s.startsWith("sweep-") ? String.format("%,d conns", Integer.parseInt(s.substring(6))) : s;
        };
    }
}
