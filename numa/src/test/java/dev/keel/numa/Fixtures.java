package dev.keel.numa;

import java.net.URISyntaxException;
import java.nio.file.Path;

/** Recorded sysfs/procfs trees under src/test/resources/fixtures. */
final class Fixtures {
    private Fixtures() {
    }

    static Path root(String name) {
        try {
            return Path.of(Fixtures.class.getResource("/fixtures/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static NumaTopology topology(String name) {
        return NumaTopology.read(root(name));
    }
}
