package dev.keel.bench.echo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The echo matrix's block: verdicts per point, p95, failed cells named, the idle target, plot data per size. */
class EchoMatrixReportTest {
    @TempDir
    Path dir;

    private static String cell(String server, String scenario, double rps, double p99) {
        return "{\"server\":\"" + server + "\",\"scenario\":\"" + scenario + "\",\"round\":1,\"status\":\"ok\",\"t_s\":1,"
                + "\"seconds\":1.5,\"rps\":" + rps + ",\"mbps\":" + rps * 65536 / 1e6 + ",\"p50_us\":10,\"p95_us\":"
                + (p99 - 1) + ",\"p99_us\":" + p99 + ",\"cpu_us_per_req\":1.5,\"other_cpu_s\":0,\"load_other_cpu_s\":0}";
    }

    private static String idle(String server, double bytesPerConn) {
        return "{\"server\":\"" + server + "\",\"scenario\":\"idle-19000\",\"round\":1,\"status\":\"ok\",\"t_s\":1,"
                + "\"rss_before_kib\":1000,\"rss_after_kib\":2000,\"rss_per_conn_bytes\":" + bytesPerConn
                + ",\"rss_per_conn_after_echo_bytes\":" + bytesPerConn + "}";
    }

    @Test
    void shouldJudgeEveryPointAndTheIdleTargetAndNameFailedCells() throws Exception {
        List<String> lines = new ArrayList<>();
        lines.add("{\"meta\":true,\"date\":\"2026-12-03 19:33 UTC\",\"quick\":1,\"rounds\":1,\"warmup_s\":0.5,"
                + "\"duration_s\":1.5,\"matrix\":1,\"idle_conns\":19000,\"nofile\":\"20000 (hard limit 20000)\","
                + "\"server_cpu\":0,\"load_cpu\":1}");
        lines.add(idle("c-epoll", 0));
        lines.add(idle("keel-epoll", 385));
        lines.add(idle("keel-io_uring", 600));
        lines.add(cell("c-epoll", "m-10-64", 100_000, 50));
        lines.add(cell("keel-epoll", "m-10-64", 99_000, 49));
        lines.add(cell("keel-io_uring", "m-10-64", 90_000, 60));
        lines.add(cell("netty-epoll", "m-10-64", 95_000, 55));
        lines.add(cell("c-epoll", "m-19000-65536", 10_000, 900_000));
        lines.add(cell("keel-epoll", "m-19000-65536", 9_000, 800_000));
        lines.add("{\"server\":\"keel-io_uring\",\"scenario\":\"m-19000-65536\",\"round\":1,\"status\":\"failed\","
                + "\"t_s\":2,\"error\":\"echo_load: no echo completed in the 1.5 s timed run\"}");
        lines.add(cell("netty-epoll", "m-19000-65536", 9_500, 700_000));
        Path results = dir.resolve("echo-matrix-20261203-1933-quick.jsonl");
        Files.write(results, lines);

        String block = EchoMatrixReport.render(results, dir.resolve("plot"), "echo-matrix-20261203-1933-quick");

        assertTrue(block.contains("| 64 B | 10 | keel-epoll | 0.99x | 0.98x | 1.04x | met |"), block);
        // 0.90x of C and below Netty epoll: missed, by its numbers.
        assertTrue(block.contains("| 64 KiB | 19,000 | keel-epoll | 0.90x | 0.89x | 0.95x | missed |"), block);
        assertTrue(block.contains("| 10 | keel-epoll | 99.0 k | 0.99x | 10.0 | 48.0 | 49.0 | 0.98x |"), block);
        assertTrue(block.contains("**1 failed**: echo_load: no echo completed in the 1.5 s timed run"), block);
        assertTrue(block.contains(" MB/s |"), "64 KiB has an MB/s column: " + block);
        assertTrue(block.contains("keel-epoll 385 B, met; keel-io_uring 600 B, missed by 88 B"), block);
        assertTrue(block.contains("![64 KiB: req/s relative to C epoll and p99 per connection count]"
                + "(echo-matrix-20261203-1933-quick-65536.png)"), block);
        assertEquals(List.of("c-epoll", "keel-epoll", "keel-io_uring", "netty-epoll"),
                List.of(Files.readAllLines(dir.resolve("plot/64/rel.dat")).getFirst().replace("\"", "").split(" "))
                        .subList(1, 5));
        assertTrue(Files.readString(dir.resolve("plot/65536/title.txt")).startsWith("Echo matrix, 64 KiB messages"));
    }

    @Test
    void shouldKeepTheMatrixBlockOfAnEarlierReportOrSayItIsNotMeasured() throws Exception {
        Path report = dir.resolve("BENCH-ECHO.md");
        assertTrue(EchoMatrixReport.keptBlock(report).contains("Not yet measured"));
        Files.writeString(report, "# Echo\n\n## Echo matrix\n\n<!-- echo-matrix -->\nthe 19:33 run\n<!-- /echo-matrix -->\n\n## Notes\n");
        assertEquals("## Echo matrix\n\n<!-- echo-matrix -->\nthe 19:33 run\n<!-- /echo-matrix -->\n",
                EchoMatrixReport.keptBlock(report));
    }
}
