package dev.keel.io.testing;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A strict reader of Prometheus text format 0.0.4 for tests (shared with other modules through
 * io-core's test jar): every sample must belong to a family announced by {@code # HELP} and
 * {@code # TYPE} before it, counters must end in {@code _total}, histogram buckets must be
 * cumulative (never decreasing) and end with {@code le="+Inf"} equal to {@code _count}.
 */
public final class PrometheusTextCheck {
    private static final Pattern SAMPLE =
            Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"\\\\]*)\"");
    private static final Pattern LE = Pattern.compile(",?le=\"[^\"]*\"");

    private PrometheusTextCheck() {
    }

    /** Checks {@code text} and returns its samples, keyed by name and labels as written. */
    public static Map<String, Double> parse(String text) {
        assertTrue(text.isEmpty() || text.endsWith("\n"), "the text ends with a newline");
        Map<String, String> help = new HashMap<>();
        Map<String, String> type = new HashMap<>();
        Map<String, Double> samples = new LinkedHashMap<>();
        Map<String, Double> lastBucket = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP ")) {
                String[] parts = line.split(" ", 4);
                assertEquals(4, parts.length, "HELP with a text: " + line);
                assertTrue(help.put(parts[2], parts[3]) == null, "one HELP per family: " + line);
            } else if (line.startsWith("# TYPE ")) {
                String[] parts = line.split(" ");
                assertEquals(4, parts.length, line);
                assertTrue(help.containsKey(parts[2]), "HELP before TYPE: " + line);
                assertTrue(parts[3].matches("counter|gauge|histogram|summary|untyped"), line);
                if (parts[3].equals("counter")) {
                    assertTrue(parts[2].endsWith("_total"), "a counter ends in _total: " + line);
                }
                assertTrue(type.put(parts[2], parts[3]) == null, "one TYPE per family: " + line);
            } else if (!line.isEmpty() && !line.startsWith("#")) {
                sample(line, type, samples, lastBucket);
            }
        }
        for (var e : type.entrySet()) {
            if (e.getValue().equals("histogram")) {
                histogramComplete(e.getKey(), samples);
            }
        }
        return samples;
    }

    private static void sample(String line, Map<String, String> type, Map<String, Double> samples,
                               Map<String, Double> lastBucket) {
        Matcher m = SAMPLE.matcher(line);
        if (!m.matches()) {
            fail("not a sample line: " + line);
        }
        String name = m.group(1);
        String labels = m.group(2) == null ? "" : m.group(2);
        if (!labels.isEmpty()) {
            for (String label : labels.substring(1, labels.length() - 1).split(",")) {
                assertTrue(LABEL.matcher(label).matches(), "label " + label + " in " + line);
            }
        }
        double value = m.group(3).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(3));
        String family = family(name, type);
        assertNotNull(family, "sample of a family without HELP and TYPE: " + line);
        if (name.endsWith("_bucket")) {
            assertTrue(labels.contains("le=\""), "a bucket has le: " + line);
            String series = family + LE.matcher(labels).replaceAll("");
            Double previous = lastBucket.put(series, value);
            assertTrue(previous == null || previous <= value, "buckets are cumulative: " + line);
        }
        assertTrue(samples.put(name + labels, value) == null, "one sample per series: " + line);
    }

    private static String family(String name, Map<String, String> type) {
        if (type.containsKey(name)) {
            return name;
        }
        for (String suffix : new String[] {"_bucket", "_sum", "_count"}) {
            if (name.endsWith(suffix)) {
                String base = name.substring(0, name.length() - suffix.length());
                if ("histogram".equals(type.get(base))) {
                    return base;
                }
            }
        }
        return null;
    }

    private static void histogramComplete(String family, Map<String, Double> samples) {
        for (var e : samples.entrySet()) {
            String key = e.getKey();
            if (key.startsWith(family + "_count")) {
                String labels = key.substring((family + "_count").length());
                String inf = family + "_bucket" + labels.substring(0, labels.length() - 1) + ",le=\"+Inf\"}";
                assertEquals(e.getValue(), samples.get(inf), "+Inf bucket equals _count for " + key);
                assertNotNull(samples.get(family + "_sum" + labels), "a _sum for " + key);
            }
        }
    }
}
