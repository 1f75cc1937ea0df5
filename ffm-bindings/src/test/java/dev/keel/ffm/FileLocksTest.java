package dev.keel.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FileLocksTest {
    @TempDir
    Path dir;

    @Test
    void shouldExcludeASecondOpenFileDescriptionInTheSameProcess() {
        String path = dir.resolve("cpu-0.lock").toString();
        int first = FileLocks.openForLock(path);
        int second = FileLocks.openForLock(path);
        try {
            assertTrue(FileLocks.tryLock(first));
            assertFalse(FileLocks.tryLock(second), "an OFD lock conflicts with another description, same process");
            assertTrue(FileLocks.isLockedByOther(second));
            assertFalse(FileLocks.isLockedByOther(first), "a description's own lock is no conflict for it");
            FileLocks.unlock(first);
            assertTrue(FileLocks.tryLock(second), "unlock releases");
        } finally {
            Files.close(first);
            Files.close(second);
        }
    }

    @Test
    void shouldKeepTheLockWhenAnotherDescriptorOfTheFileIsClosed() {
        String path = dir.resolve("cpu-1.lock").toString();
        int holder = FileLocks.openForLock(path);
        int contender = FileLocks.openForLock(path);
        try {
            assertTrue(FileLocks.tryLock(holder));
            // The classic POSIX lock trap: closing any descriptor of the file drops the process's lock.
            Files.close(FileLocks.openToQuery(path));
            assertFalse(FileLocks.tryLock(contender), "still held after an unrelated close");
            Files.close(holder);
            assertTrue(FileLocks.tryLock(contender), "closing the last descriptor of the description releases");
        } finally {
            Files.close(contender);
        }
    }

    @Test
    void shouldNameTheErrnoAndPathWhenTheFileIsMissing() {
        String missing = dir.resolve("nope").toString();
        SyscallException e = assertThrows(SyscallException.class, () -> FileLocks.openToQuery(missing));
        assertEquals("ENOENT", e.errnoName());
        assertTrue(e.getMessage().endsWith(missing), e.getMessage());
    }
}
