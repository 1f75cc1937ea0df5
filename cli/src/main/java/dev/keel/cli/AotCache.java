package dev.keel.cli;

/**
 * Whether the JDK AOT cache {@code bin/keel} asked for is in use. The launcher of the
 * distribution passes {@code -XX:AOTCache=lib/keel.aot} (made by {@code make dist} from a
 * {@code keel train} run) with the JVM's own AOT logging off, and names the file in
 * {@link #PROPERTY}. A cache the JVM cannot map — made by another Java runtime, another module
 * graph or other options, or damaged — is ignored by the JVM, which then starts the slow way;
 * this turns that into one line on stderr instead of the JVM's several, so a user sees why
 * start-up got slower.
 */
final class AotCache {
    /** The system property holding the cache's path when the launcher passed one. */
    static final String PROPERTY = "keel.aot";

    private AotCache() {
    }

    /**
     * Why the cache at {@code path} is not in use, or null when it is (or none was asked
     * for). The JVM reports a mapped archive in {@code java.vm.info} ("sharing"); with
     * {@code -XX:AOTCache} the cache replaces the JDK's default archive, so "sharing" missing
     * means the cache was refused.
     */
    static String unusedReason(String path, String vmInfo) {
        if (path == null || path.isEmpty() || (vmInfo != null && vmInfo.contains("sharing"))) {
            return null;
        }
        return "the AOT cache " + path + " does not match this Java runtime or its options; starting without it"
                + " (make dist builds a new one)";
    }
}
