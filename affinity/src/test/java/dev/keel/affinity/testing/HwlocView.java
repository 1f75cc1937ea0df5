package dev.keel.affinity.testing;

import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;

/**
 * hwloc's own view of a recorded machine, parsed from its lstopo console text or its XML
 * export into plain Java values (BitSets of OS CPU numbers, never keel's types), so it stays
 * an independent reference for the tests that hold keel's readers to it.
 *
 * <p>hwloc shows only what the process may use: PUs outside the cgroup cpuset or offline are
 * left out ({@link #hidden()} names them), and so are NUMA nodes outside the cgroup's mems.
 * A NUMA node is a memory child of the object whose CPUs are local to it, so its CPUs are its
 * parent's.
 */
public final class HwlocView {
    /** One object: its type ("Package", "Core", "PU", "NUMANode", "Cache", "Group", ...), P#, PUs and attributes. */
    public record Obj(String type, int os, BitSet pus, Map<String, String> attrs) {
        /** A cache's level (1-5) from its type name, 0 for other objects. */
        public int cacheLevel() {
            return Integer.parseInt(attrs.getOrDefault("level", "0"));
        }

        /** "Data", "Instruction" or "Unified" for a cache. */
        public String cacheType() {
            return attrs.getOrDefault("cacheType", "");
        }
    }

    /** A CPU kind of a heterogeneous processor; a higher efficiency rank is a faster core. */
    public record Kind(BitSet cpus, int efficiency) {
    }

    private static final Pattern LINE = Pattern.compile("^( *)(\\S+)(?: L#(\\d+))?(?: \\((.*)\\))?$");
    private static final Pattern ATTR = Pattern.compile("(P#\\d+)|(\\w+)=(\"[^\"]*\"|\\S*)");
    private static final Pattern HIDDEN = Pattern.compile("^\\d+ processors not represented in topology: (\\S+)$");
    private static final Pattern KIND = Pattern.compile("^CPU kind #\\d+ efficiency (\\d+) cpuset (\\S+)$");
    private static final Pattern CACHE = Pattern.compile("L(\\d)([di]?)Cache");

    private final List<Obj> objects = new ArrayList<>();
    private final Map<Integer, Map<Integer, Integer>> distances = new TreeMap<>();
    private final List<Kind> kinds = new ArrayList<>();
    private BitSet hidden = new BitSet();
    private String cgroup = "";

    private HwlocView() {
    }

    /** Parses a {@code .console} or {@code .xml} view. */
    public static HwlocView parse(String text) {
        HwlocView v = new HwlocView();
        if (text.startsWith("<?xml")) {
            v.parseXml(text);
        } else {
            v.parseConsole(text);
        }
        return v;
    }

    public List<Obj> objects(String type) {
        return objects.stream().filter(o -> o.type.equals(type)).toList();
    }

    /** The PUs shown: online and allowed by the cgroup. */
    public BitSet pus() {
        BitSet all = new BitSet();
        objects("PU").forEach(o -> all.set(o.os));
        return all;
    }

    /** CPUs the machine has that hwloc leaves out (offline or outside the cgroup cpuset). */
    public BitSet hidden() {
        return hidden;
    }

    /** The NUMA latency matrix by node P#: row, column, value; empty when hwloc shows none. */
    public Map<Integer, Map<Integer, Integer>> distances() {
        return distances;
    }

    public List<Kind> kinds() {
        return kinds;
    }

    /** The cgroup hwloc read its restrictions from ({@code LinuxCgroup} info), "" when not given. */
    public String cgroup() {
        return cgroup;
    }

    // ------------------------------------------------------------------------------ console

    private void parseConsole(String text) {
        List<String> lines = text.lines().toList();
        // Each object with the indentation it was printed at; a line's parent is the nearest
        // earlier line indented less.
        List<int[]> open = new ArrayList<>(); // {indent, index in tree}
        List<ConsoleNode> tree = new ArrayList<>();
        int i = 0;
        for (; i < lines.size() && !lines.get(i).startsWith("depth "); i++) {
            Matcher m = LINE.matcher(lines.get(i));
            if (!m.matches()) {
                throw new IllegalArgumentException("unparsed hwloc console line: " + lines.get(i));
            }
            int indent = m.group(1).length();
            while (!open.isEmpty() && open.get(open.size() - 1)[0] >= indent) {
                open.remove(open.size() - 1);
            }
            ConsoleNode node = new ConsoleNode(m.group(2), m.group(4) == null ? "" : m.group(4),
                    open.isEmpty() ? null : tree.get(open.get(open.size() - 1)[1]));
            tree.add(node);
            open.add(new int[] {indent, tree.size() - 1});
        }
        for (ConsoleNode n : tree) {
            if (n.type.equals("PU")) {
                for (ConsoleNode up = n; up != null; up = up.parent) {
                    up.pus.set(n.os);
                }
            }
        }
        List<Integer> nodeOrder = new ArrayList<>(); // NUMANode P# by logical index
        for (ConsoleNode n : tree) {
            BitSet pus = n.type.equals("NUMANode") ? n.parent.pus : n.pus;
            objects.add(new Obj(normalType(n.type), n.os, pus, normalAttrs(n.type, n.attrs)));
            if (n.type.equals("NUMANode")) {
                nodeOrder.add(n.os);
            }
        }
        for (; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher h = HIDDEN.matcher(line);
            Matcher k = KIND.matcher(line);
            if (h.matches()) {
                hidden = mask(h.group(1));
            } else if (k.matches()) {
                kinds.add(new Kind(mask(k.group(2)), Integer.parseInt(k.group(1))));
            } else if (line.startsWith("Relative latency matrix")) {
                i = consoleMatrix(lines, i + 2, nodeOrder) - 1;
            } else if (line.startsWith("Topology infos:")) {
                Matcher c = Pattern.compile("LinuxCgroup=(\\S+)").matcher(line);
                cgroup = c.find() ? c.group(1) : "";
            }
        }
    }

    /** Rows "i v v v ..." by logical index, from {@code start}; returns the first line after. */
    private int consoleMatrix(List<String> lines, int start, List<Integer> nodeOrder) {
        int i = start;
        for (; i < lines.size() && lines.get(i).matches("^ +\\d+( +\\d+)+$"); i++) {
            String[] f = lines.get(i).trim().split(" +");
            int row = nodeOrder.get(Integer.parseInt(f[0]));
            for (int c = 1; c < f.length; c++) {
                distances.computeIfAbsent(row, r -> new TreeMap<>()).put(nodeOrder.get(c - 1), Integer.parseInt(f[c]));
            }
        }
        return i;
    }

    private static final class ConsoleNode {
        final String type;
        final int os;
        final Map<String, String> attrs = new LinkedHashMap<>();
        final ConsoleNode parent;
        final BitSet pus = new BitSet();

        ConsoleNode(String type, String attrText, ConsoleNode parent) {
            this.type = type;
            this.parent = parent;
            int p = -1;
            Matcher m = ATTR.matcher(attrText);
            while (m.find()) {
                if (m.group(1) != null) {
                    p = Integer.parseInt(m.group(1).substring(2));
                } else {
                    attrs.put(m.group(2), m.group(3).replace("\"", ""));
                }
            }
            this.os = p;
        }
    }

    // ------------------------------------------------------------------------------ XML

    private void parseXml(String text) {
        Element root;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            root = f.newDocumentBuilder().parse(new InputSource(new StringReader(text))).getDocumentElement();
        } catch (Exception e) {
            throw new IllegalArgumentException("bad hwloc XML", e);
        }
        for (Element e : children(root)) {
            switch (e.getTagName()) {
                case "object" -> {
                    BitSet shown = mask(e.getAttribute("cpuset"));
                    hidden = mask(e.getAttribute("complete_cpuset"));
                    hidden.andNot(shown);
                    xmlObject(e);
                }
                case "distances2" -> xmlDistances(e);
                case "cpukind" -> kinds.add(new Kind(mask(e.getAttribute("cpuset")), kinds.size()));
                case "info" -> {
                    if (e.getAttribute("name").equals("LinuxCgroup")) {
                        cgroup = e.getAttribute("value");
                    }
                }
                default -> { }
            }
        }
    }

    private void xmlObject(Element e) {
        String type = e.getAttribute("type");
        Map<String, String> attrs = new LinkedHashMap<>();
        if (e.hasAttribute("local_memory")) {
            attrs.put("localBytes", e.getAttribute("local_memory"));
        }
        if (e.hasAttribute("cache_size")) {
            attrs.put("sizeBytes", e.getAttribute("cache_size"));
            attrs.put("level", e.getAttribute("depth"));
            attrs.put("cacheType", switch (e.getAttribute("cache_type")) {
                case "1" -> "Data";
                case "2" -> "Instruction";
                default -> "Unified";
            });
            type = "Cache";
        }
        if (e.hasAttribute("cpuset")) {
            int os = e.hasAttribute("os_index") ? Integer.parseInt(e.getAttribute("os_index")) : -1;
            objects.add(new Obj(type.startsWith("Group") ? "Group" : type, os, mask(e.getAttribute("cpuset")), attrs));
        }
        for (Element c : children(e)) {
            if (c.getTagName().equals("object")) {
                xmlObject(c);
            }
        }
    }

    private void xmlDistances(Element e) {
        if (!e.getAttribute("type").equals("NUMANode")) {
            return;
        }
        List<Integer> index = new ArrayList<>();
        List<Integer> values = new ArrayList<>();
        for (Element c : children(e)) {
            List<Integer> into = c.getTagName().equals("indexes") ? index : values;
            for (String s : c.getTextContent().trim().split("\\s+")) {
                into.add(Integer.parseInt(s));
            }
        }
        int n = index.size();
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < n; c++) {
                distances.computeIfAbsent(index.get(r), x -> new TreeMap<>()).put(index.get(c), values.get(r * n + c));
            }
        }
    }

    private static List<Element> children(Element e) {
        List<Element> list = new ArrayList<>();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c) {
                list.add(c);
            }
        }
        return list;
    }

    // ------------------------------------------------------------------------------ shared

    private static String normalType(String type) {
        if (CACHE.matcher(type).matches()) {
            return "Cache";
        }
        return type.startsWith("Group") ? "Group" : type;
    }

    /** Console attributes in the units the XML gives: bytes for sizes and memory, cache level and type. */
    private static Map<String, String> normalAttrs(String type, Map<String, String> attrs) {
        Map<String, String> out = new LinkedHashMap<>(attrs);
        Matcher c = CACHE.matcher(type);
        if (c.matches()) {
            out.put("level", c.group(1));
            out.put("cacheType", switch (c.group(2)) {
                case "d" -> "Data";
                case "i" -> "Instruction";
                default -> "Unified";
            });
        }
        return out;
    }

    /**
     * An hwloc bitmap string: comma-separated 32-bit words in hex, the most significant first
     * ("0x000000ff,0xffffffff"); an empty word stands for zero.
     */
    static BitSet mask(String text) {
        BitSet bits = new BitSet();
        String[] words = text.split(",", -1);
        for (int w = 0; w < words.length; w++) {
            String word = words[words.length - 1 - w].replace("0x", "");
            long value = word.isEmpty() ? 0 : Long.parseLong(word, 16);
            for (int b = 0; b < 32; b++) {
                if ((value >>> b & 1) != 0) {
                    bits.set(w * 32 + b);
                }
            }
        }
        return bits;
    }

    /**
     * A size the way lstopo prints it: in KiB below 10 MiB, MiB below 10 GiB, GiB below 10 TiB,
     * else TiB, rounded to the nearest unit (a node of 32489480 kB is "31GiB"); what keel read,
     * in the words of a console view.
     */
    public static String consoleSize(long bytes) {
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        long kb = bytes >> 10;
        int u = 0;
        long scale = 1;
        while (u < units.length - 1 && kb >= 10 * 1024 * scale) {
            scale *= 1024;
            u++;
        }
        return (kb + scale / 2) / scale + units[u];
    }
}
