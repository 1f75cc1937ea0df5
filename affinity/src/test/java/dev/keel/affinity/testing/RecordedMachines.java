package dev.keel.affinity.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The real machines recorded by the hwloc project (test resources {@code hwloc-linux/}, BSD
 * notice in {@code hwloc-linux/COPYING}): each a {@code NAME.tar.gz} of the sysfs and procfs
 * files keel reads (made by {@code scripts/hwloc-fixtures.sh}) and hwloc's own view of the
 * machine, {@code NAME.console} or {@code NAME.xml}.
 *
 * <p>Also the machines recorded for keel itself ({@code machines/NAME.tar.gz}, made by
 * {@code scripts/record-machine.sh} and {@code scripts/pack-tree.sh}): {@code vm-virtio-eth0},
 * the 2-CPU virtual machine keel is developed on, with its virtio NIC's interrupts.
 *
 * <p>The archives are plain ustar, unpacked here with a reader of its three entry kinds that
 * matter (files, directories, symbolic links), so the tests need no tar program.
 */
public final class RecordedMachines {
    /** Every recorded machine, by name. */
    public static final List<String> NAMES = List.of(
            "128arm-2pa2n8cluster4co",
            "16amd64-4n4c-cgroup-distance-merge",
            "16amd64-8n2c",
            "16amd64-8n2c-cpusets",
            "16em64t-4s2c2t",
            "16em64t-4s2c2t-offlines",
            "20em64t-hybrid-1p6c2t+2ca4co1t",
            "32amd64-4s2n4c-cgroup2",
            "40intel64-2g2n4c+pcilocality",
            "48amd64-4pa2n6c-sparse",
            "64amd64-4s2n4ca2co",
            "96em64t-4no4pa3ca2co",
            "nvidia-dgx-gb10",
            "offline-cpu0-node0");

    private static final int BLOCK = 512;

    private RecordedMachines() {
    }

    /** Unpacks machine {@code name} into {@code dir} (which becomes the tree's root) and returns {@code dir}. */
    public static Path unpack(String name, Path dir) {
        try (InputStream in = resource(name + ".tar.gz")) {
            Files.createDirectories(dir);
            untar(new GZIPInputStream(in), dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack recorded machine " + name, e);
        }
    }

    /** Unpacks keel's own recording {@code machines/NAME.tar.gz} into {@code dir} and returns {@code dir}. */
    public static Path unpackMachine(String name, Path dir) {
        return unpackResource(RecordedMachines.class, "/machines/" + name + ".tar.gz", dir);
    }

    /** Unpacks the tree archive {@code resource} of {@code owner}'s class path into {@code dir} and returns {@code dir}. */
    public static Path unpackResource(Class<?> owner, String resource, Path dir) {
        try (InputStream in = owner.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no test resource " + resource);
            }
            Files.createDirectories(dir);
            untar(new GZIPInputStream(in), dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack " + resource, e);
        }
    }

    /** hwloc's view of machine {@code name}: the text of its {@code .console} or {@code .xml}. */
    public static String hwlocView(String name) {
        for (String suffix : List.of(".console", ".xml")) {
            try (InputStream in = RecordedMachines.class.getResourceAsStream("/hwloc-linux/" + name + suffix)) {
                if (in != null) {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalArgumentException("no hwloc view of " + name);
    }

    /** Whether hwloc's view of {@code name} is an XML export (else lstopo's console text). */
    public static boolean isXml(String name) {
        return RecordedMachines.class.getResource("/hwloc-linux/" + name + ".xml") != null;
    }

    private static InputStream resource(String file) {
        InputStream in = RecordedMachines.class.getResourceAsStream("/hwloc-linux/" + file);
        if (in == null) {
            throw new IllegalArgumentException("no test resource hwloc-linux/" + file);
        }
        return in;
    }

    /**
     * POSIX ustar: 512-byte headers (name at 0, size in octal at 124, type at 156, link name
     * at 157, name prefix at 345), each file's bytes padded to a whole block, two zero blocks
     * at the end.
     */
    private static void untar(InputStream in, Path dir) throws IOException {
        byte[] header = new byte[BLOCK];
        while (in.readNBytes(header, 0, BLOCK) == BLOCK && header[0] != 0) {
            String prefix = field(header, 345, 155);
            String name = (prefix.isEmpty() ? "" : prefix + "/") + field(header, 0, 100);
            long size = Long.parseLong(field(header, 124, 12).trim(), 8);
            char type = (char) header[156];
            Path target = dir.resolve(name.startsWith("./") ? name.substring(2) : name).normalize();
            if (!target.startsWith(dir)) {
                throw new IOException("archive entry " + name + " leaves " + dir);
            }
            switch (type) {
                case '5' -> Files.createDirectories(target);
                case '2' -> {
                    Files.createDirectories(target.getParent());
                    Files.createSymbolicLink(target, Path.of(field(header, 157, 100)));
                }
                case '0', '\0' -> {
                    Files.createDirectories(target.getParent());
                    Files.write(target, in.readNBytes((int) size));
                    in.skipNBytes((BLOCK - size % BLOCK) % BLOCK);
                }
                default -> throw new IOException("archive entry " + name + " of unsupported type '" + type + "'");
            }
        }
    }

    private static String field(byte[] header, int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) {
            end++;
        }
        return new String(header, offset, end - offset, StandardCharsets.US_ASCII);
    }
}
