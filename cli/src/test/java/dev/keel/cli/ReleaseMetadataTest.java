package dev.keel.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a release promises, read from the repository's own files: the license in LICENSE and in
 * every pom, the BOM's version equal to keel's and pinning every library module, a version that
 * is not a snapshot with its CHANGELOG entry, and the NOTICE's third-party files present.
 * (The poms are read as text: the test needs no XML parser in the cli module's reads.)
 */
class ReleaseMetadataTest {
    private static final Path ROOT = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent();
    private static final Pattern MODULE = Pattern.compile("<module>([^<]+)</module>");
    private static final Pattern ARTIFACT = Pattern.compile("<artifactId>([^<]+)</artifactId>");
    /** Modules that are not libraries: the C generator, the benchmarks, the BOM itself. */
    private static final List<String> NOT_PUBLISHED_AS_LIBRARY = List.of("native", "bench", "keel-bom");

    private static String read(String relative) throws IOException {
        return Files.readString(ROOT.resolve(relative));
    }

    /** The project's own version: the first {@code <version>} after the artifactId of the pom. */
    private static String ownVersion(String pom, String artifactId) {
        int at = pom.indexOf("<artifactId>" + artifactId + "</artifactId>");
        assertTrue(at >= 0, artifactId + " not in its pom");
        Matcher m = Pattern.compile("<version>([^<]+)</version>").matcher(pom);
        assertTrue(m.find(at), "no version after " + artifactId);
        return m.group(1);
    }

    private static List<String> modules() throws IOException {
        List<String> modules = new ArrayList<>();
        Matcher m = MODULE.matcher(read("pom.xml"));
        while (m.find()) {
            modules.add(m.group(1));
        }
        return modules;
    }

    @Test
    void shouldNameApacheTwoInLicenseAndEveryPom() throws IOException {
        String license = read("LICENSE");
        assertTrue(license.contains("Apache License") && license.contains("Version 2.0, January 2004"), "LICENSE");
        assertTrue(license.contains("END OF TERMS AND CONDITIONS"), "LICENSE is the full text");
        List<String> poms = new ArrayList<>(List.of("pom.xml"));
        for (String module : modules()) {
            poms.add(module + "/pom.xml");
        }
        for (String pom : poms) {
            String text = read(pom);
            assertTrue(text.contains("<licenses>") && text.contains("<name>Apache-2.0</name>"), pom + " names no Apache-2.0 license");
        }
    }

    @Test
    void shouldPinEveryLibraryModuleInTheBomAtKeelsVersion() throws IOException {
        String parent = read("pom.xml");
        String bom = read("keel-bom/pom.xml");
        String version = ownVersion(parent, "keel-parent");
        assertEquals(version, ownVersion(bom, "keel-bom"), "keel-bom's version");
        assertFalse(bom.contains("<parent>"), "keel-bom inherits keel-parent's pins (JUnit, JCTools) into users' builds");
        List<String> managed = new ArrayList<>();
        Matcher m = ARTIFACT.matcher(bom.substring(bom.indexOf("<dependencyManagement>")));
        while (m.find()) {
            managed.add(m.group(1));
        }
        for (String module : modules()) {
            if (NOT_PUBLISHED_AS_LIBRARY.contains(module)) {
                continue;
            }
            String artifactId = module; // each library module's artifactId is its directory's name
            assertTrue(read(module + "/pom.xml").contains("<artifactId>" + artifactId + "</artifactId>"), module);
            assertTrue(managed.contains(artifactId), "keel-bom does not pin " + artifactId + ": " + managed);
            assertEquals(version, ownVersion(read(module + "/pom.xml"), "keel-parent"), module + "'s parent version");
        }
    }

    @Test
    void shouldReleaseAVersionThatIsNotASnapshotWithItsChangelogEntry() throws IOException {
        String version = ownVersion(read("pom.xml"), "keel-parent");
        assertFalse(version.endsWith("-SNAPSHOT"), "a release version, not " + version);
        assertTrue(read("CHANGELOG.md").contains("## [" + version + "]"), "CHANGELOG.md has no entry for " + version);
    }

    @Test
    void shouldShipTheThirdPartyLicensesTheNoticeNames() throws IOException {
        String notice = read("NOTICE");
        assertTrue(notice.contains("hwloc") && notice.contains("BSD-3-Clause"), "NOTICE names hwloc's BSD-3-Clause files");
        String copying = read("affinity/src/test/resources/hwloc-linux/COPYING");
        assertTrue(copying.contains("Redistribution and use in source and binary forms"), "hwloc's COPYING is the full license");
    }
}
