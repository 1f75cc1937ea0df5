package dev.keel.ffm;

import dev.keel.ffm.gen.Errno;
import dev.keel.ffm.gen.LinuxLayouts.OpenHow;
import dev.keel.ffm.gen.LinuxLayouts.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;

import static dev.keel.ffm.gen.LinuxConstants.AT_FDCWD;
import static dev.keel.ffm.gen.LinuxConstants.O_CLOEXEC;
import static dev.keel.ffm.gen.LinuxConstants.O_CREAT;
import static dev.keel.ffm.gen.LinuxConstants.O_DIRECTORY;
import static dev.keel.ffm.gen.LinuxConstants.O_EXCL;
import static dev.keel.ffm.gen.LinuxConstants.O_NOFOLLOW;
import static dev.keel.ffm.gen.LinuxConstants.O_PATH;
import static dev.keel.ffm.gen.LinuxConstants.O_RDONLY;
import static dev.keel.ffm.gen.LinuxConstants.O_WRONLY;
import static dev.keel.ffm.gen.LinuxConstants.RESOLVE_BENEATH;
import static dev.keel.ffm.gen.LinuxConstants.RESOLVE_NO_MAGICLINKS;
import static dev.keel.ffm.gen.LinuxConstants.RESOLVE_NO_SYMLINKS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FilesTest {
    /** What the server will pass: stay under the root, and never through /proc magic links. */
    private static final long SERVER_RESOLVE = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;

    @TempDir
    Path dir;

    @Test
    void shouldOpenAndFstatARealFile() throws IOException {
        byte[] content = "keel reads the kernel's view of this file\n".repeat(100).getBytes(StandardCharsets.US_ASCII);
        Path file = java.nio.file.Files.write(dir.resolve("data.txt"), content);
        java.nio.file.Files.setLastModifiedTime(file, FileTime.from(Instant.parse("2024-05-06T07:08:09.123456789Z")));

        int fd = Files.open(file.toString(), O_RDONLY | O_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stat = Files.newStat(arena);
            Files.fstat(fd, stat);
            assertEquals(content.length, Files.size(stat));
            assertTrue(Files.isRegularFile(stat));
            assertFalse(Files.isDirectory(stat));
            assertEquals(java.nio.file.Files.getAttribute(file, "unix:ino"), Files.ino(stat));
            assertEquals(java.nio.file.Files.getAttribute(file, "unix:dev"), Files.dev(stat));
            assertEquals(java.nio.file.Files.getAttribute(file, "unix:mode"), Files.mode(stat));
            assertEquals(Instant.parse("2024-05-06T07:08:09.123456789Z").getEpochSecond(), Files.mtimeSeconds(stat));
            assertEquals(123_456_789, Files.mtimeNanos(stat));
            assertArrayEquals(content, TestIo.readFully(fd, content.length), "the descriptor reads the file");
        } finally {
            Files.close(fd);
        }
    }

    @Test
    void shouldReportADirectoryAsDirectory() {
        int fd = Files.open(dir.toString(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stat = Files.newStat(arena);
            Files.fstat(fd, stat);
            assertTrue(Files.isDirectory(stat));
            assertFalse(Files.isRegularFile(stat));
        } finally {
            Files.close(fd);
        }
    }

    @Test
    void shouldReadStatFieldsWithTheirGeneratedWidths() {
        // The accessors read st_mode as an int and the rest as longs; the headers must agree.
        assertEquals(JAVA_INT.byteSize(), Stat.ST_MODE_SIZE);
        assertEquals(JAVA_LONG.byteSize(), Stat.ST_SIZE_SIZE);
        assertEquals(JAVA_LONG.byteSize(), Stat.ST_INO_SIZE);
        assertEquals(JAVA_LONG.byteSize(), Stat.ST_DEV_SIZE);
        assertEquals(JAVA_LONG.byteSize(), Stat.ST_MTIM_SEC_SIZE);
        assertEquals(JAVA_LONG.byteSize(), Stat.ST_MTIM_NSEC_SIZE);
        assertEquals(JAVA_LONG.byteSize(), OpenHow.FLAGS_SIZE);
        assertEquals(JAVA_LONG.byteSize(), OpenHow.MODE_SIZE);
        assertEquals(JAVA_LONG.byteSize(), OpenHow.RESOLVE_SIZE);
    }

    // Modes below keep to owner bits so that any usual umask leaves them as asked.
    @Test
    void shouldCreateWithTheGivenModeFromASegmentPath() throws IOException {
        Path file = dir.resolve("created");
        int fd;
        try (Arena arena = Arena.ofConfined()) {
            fd = Files.open(arena.allocateFrom(file.toString()), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        }
        try {
            TestIo.writeFully(fd, new byte[] {1, 2, 3});
        } finally {
            Files.close(fd);
        }
        assertEquals("rw-------", PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(file)));
        assertArrayEquals(new byte[] {1, 2, 3}, java.nio.file.Files.readAllBytes(file));
        SyscallException e = assertThrows(SyscallException.class,
                () -> Files.open(file.toString(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        assertEquals("EEXIST", e.errnoName());
    }

    @Test
    void shouldNameOpenAndEnoentForAMissingFile() {
        SyscallException e = assertThrows(SyscallException.class,
                () -> Files.open(dir.resolve("missing").toString(), O_RDONLY | O_CLOEXEC, 0));
        assertEquals("open", e.call());
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("open: ENOENT (No such file or directory)", e.getMessage());
    }

    @Test
    void shouldOpenRelativeToADirectoryDescriptor() throws IOException {
        java.nio.file.Files.createDirectory(dir.resolve("sub"));
        java.nio.file.Files.writeString(dir.resolve("sub/a.txt"), "beneath");
        int dirfd = Files.open(dir.toString(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        try {
            int fd = Files.openat(dirfd, "sub/a.txt", O_RDONLY | O_CLOEXEC, 0);
            try {
                assertEquals("beneath", new String(TestIo.readFully(fd, 7), StandardCharsets.US_ASCII));
            } finally {
                Files.close(fd);
            }
            int fd2 = Files.openat(AT_FDCWD, dir.resolve("sub/a.txt").toString(), O_RDONLY | O_CLOEXEC, 0);
            Files.close(fd2);
            SyscallException e = assertThrows(SyscallException.class,
                    () -> Files.openat(dirfd, "sub/none", O_RDONLY | O_CLOEXEC, 0));
            assertEquals("openat: ENOENT (No such file or directory)", e.getMessage());
        } finally {
            Files.close(dirfd);
        }
    }

    @Test
    void shouldOpenAFileBeneathTheRootWithOpenat2() throws IOException {
        java.nio.file.Files.createDirectories(dir.resolve("root/docs"));
        java.nio.file.Files.writeString(dir.resolve("root/docs/index.html"), "<h1>keel</h1>");
        java.nio.file.Files.createSymbolicLink(dir.resolve("root/home.html"), Path.of("docs/index.html"));
        int root = Files.open(dir.resolve("root").toString(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            // The hot-path form: path and open_how in caller segments, reused between calls.
            MemorySegment path = arena.allocate(256);
            MemorySegment how = Files.openHow(Files.newOpenHow(arena), O_RDONLY | O_CLOEXEC, 0, SERVER_RESOLVE);
            for (String name : new String[] {"docs/index.html", "home.html", "docs/../home.html"}) {
                path.setString(0, name);
                int fd = Files.openat2(root, path, how);
                try {
                    assertEquals("<h1>keel</h1>", new String(TestIo.readFully(fd, 13), StandardCharsets.US_ASCII), name);
                } finally {
                    Files.close(fd);
                }
            }
        } finally {
            Files.close(root);
        }
    }

    @Test
    void shouldRefuseEscapesFromTheRootWithExdev() throws IOException {
        Path root = java.nio.file.Files.createDirectory(dir.resolve("root"));
        java.nio.file.Files.writeString(dir.resolve("secret"), "outside");
        java.nio.file.Files.createSymbolicLink(root.resolve("up"), Path.of("../secret"));
        java.nio.file.Files.createSymbolicLink(root.resolve("abs"), dir.resolve("secret"));
        int rootFd = Files.open(root.toString(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        try {
            assertEquals("openat2: EXDEV (Invalid cross-device link)",
                    assertOpenat2Fails(rootFd, "../secret", SERVER_RESOLVE, Errno.EXDEV).getMessage());
            assertOpenat2Fails(rootFd, "up", SERVER_RESOLVE, Errno.EXDEV);
            assertOpenat2Fails(rootFd, "abs", SERVER_RESOLVE, Errno.EXDEV);
            assertOpenat2Fails(rootFd, dir.resolve("secret").toString(), SERVER_RESOLVE, Errno.EXDEV);
            // Without RESOLVE_BENEATH the same link is followed out: the flag is what refuses it.
            int fd = Files.openat2(rootFd, "up", O_RDONLY | O_CLOEXEC, 0, 0);
            Files.close(fd);
        } finally {
            Files.close(rootFd);
        }
    }

    @Test
    void shouldNameEnoentAndEloopFromOpenat2() throws IOException {
        Path root = java.nio.file.Files.createDirectory(dir.resolve("root"));
        java.nio.file.Files.writeString(root.resolve("file"), "x");
        java.nio.file.Files.createSymbolicLink(root.resolve("link"), Path.of("file"));
        int rootFd = Files.open(root.toString(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        try {
            assertOpenat2Fails(rootFd, "missing", SERVER_RESOLVE, Errno.ENOENT);
            assertOpenat2Fails(rootFd, "link", SERVER_RESOLVE | RESOLVE_NO_SYMLINKS, Errno.ELOOP);
            SyscallException e = assertThrows(SyscallException.class,
                    () -> Files.openat2(rootFd, "link", O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0, SERVER_RESOLVE));
            assertEquals("ELOOP", e.errnoName());
        } finally {
            Files.close(rootFd);
        }
    }

    /** The non-throwing variants give the same answers as return values: fd, or -errno. */
    @Test
    void shouldReturnMinusErrnoFromTheTryVariants() throws IOException {
        Path root = java.nio.file.Files.createDirectory(dir.resolve("root"));
        java.nio.file.Files.writeString(root.resolve("file"), "x");
        java.nio.file.Files.writeString(dir.resolve("secret"), "outside");
        int rootFd = Files.open(root.toString(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment how = Files.openHow(Files.newOpenHow(arena), O_RDONLY | O_CLOEXEC, 0, SERVER_RESOLVE);
            int fd = Files.tryOpenat2(rootFd, arena.allocateFrom("file"), how);
            assertTrue(fd >= 0, "opened: " + fd);
            Files.close(fd);
            assertEquals(-Errno.ENOENT, Files.tryOpenat2(rootFd, arena.allocateFrom("missing"), how));
            assertEquals(-Errno.EXDEV, Files.tryOpenat2(rootFd, arena.allocateFrom("../secret"), how));
            fd = Files.tryOpenat(rootFd, arena.allocateFrom("file"), O_RDONLY | O_CLOEXEC, 0);
            assertTrue(fd >= 0, "opened: " + fd);
            Files.close(fd);
            assertEquals(-Errno.ENOENT, Files.tryOpenat(rootFd, arena.allocateFrom("missing"), O_RDONLY | O_CLOEXEC, 0));
            assertEquals(-Errno.EBADF, Files.tryOpenat(-1, arena.allocateFrom("file"), O_RDONLY | O_CLOEXEC, 0));
        } finally {
            Files.close(rootFd);
        }
    }

    @Test
    void shouldRefuseMagicLinksWithEloop() throws IOException {
        java.nio.file.Files.writeString(dir.resolve("target"), "magic");
        int target = Files.open(dir.resolve("target").toString(), O_RDONLY | O_CLOEXEC, 0);
        int proc = Files.open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        try {
            // /proc/self/fd/N is a magic link: followed, it jumps to the file wherever it is.
            int fd = Files.openat2(proc, "fd/" + target, O_RDONLY | O_CLOEXEC, 0, 0);
            Files.close(fd);
            assertOpenat2Fails(proc, "fd/" + target, RESOLVE_NO_MAGICLINKS, Errno.ELOOP);
            // The kernel checks RESOLVE_NO_MAGICLINKS before the scope (which alone gives EXDEV).
            assertOpenat2Fails(proc, "fd/" + target, RESOLVE_BENEATH, Errno.EXDEV);
            assertOpenat2Fails(proc, "fd/" + target, SERVER_RESOLVE, Errno.ELOOP);
        } finally {
            Files.close(proc);
            Files.close(target);
        }
    }

    @Test
    void shouldCreateWithOpenHowModeAndRejectModeWithoutCreate() throws IOException {
        int dirfd = Files.open(dir.toString(), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        try {
            int fd = Files.openat2(dirfd, "made", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400, RESOLVE_BENEATH);
            Files.close(fd);
            assertEquals("r--------",
                    PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(dir.resolve("made"))));
            // openat2 is strict where open(2) is lax: a mode without O_CREAT is an error.
            SyscallException e = assertThrows(SyscallException.class,
                    () -> Files.openat2(dirfd, "made", O_RDONLY | O_CLOEXEC, 0400, RESOLVE_BENEATH));
            assertEquals("EINVAL", e.errnoName());
        } finally {
            Files.close(dirfd);
        }
    }

    @Test
    void shouldRejectHeapSegmentsForOpenat2() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment heapPath = MemorySegment.ofArray("x\0".getBytes(StandardCharsets.US_ASCII));
            MemorySegment how = Files.newOpenHow(arena);
            assertThrows(IllegalArgumentException.class, () -> Files.openat2(AT_FDCWD, heapPath, how));
            assertThrows(IllegalArgumentException.class,
                    () -> Files.openat2(AT_FDCWD, arena.allocateFrom("x"), arena.allocate(JAVA_BYTE, 8)));
        }
    }

    @Test
    void shouldNameEbadfOnABadDescriptor() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stat = Files.newStat(arena);
            assertErrno("fstat", Errno.EBADF, () -> Files.fstat(-1, stat));
        }
        assertErrno("close", Errno.EBADF, () -> Files.close(-1));
        assertErrno("openat", Errno.EBADF, () -> Files.openat(-1, "relative", O_RDONLY, 0));
        assertErrno("openat2", Errno.EBADF, () -> Files.openat2(-1, "relative", O_RDONLY, 0, RESOLVE_BENEATH));
    }

    private static SyscallException assertOpenat2Fails(int dirfd, String path, long resolve, int errno) {
        SyscallException e = assertThrows(SyscallException.class,
                () -> Files.openat2(dirfd, path, O_RDONLY | O_CLOEXEC, 0, resolve), path);
        assertEquals(Errno.name(errno), e.errnoName(), path);
        assertEquals("openat2", e.call());
        return e;
    }

    private static void assertErrno(String call, int errno, Executable executable) {
        SyscallException e = assertThrows(SyscallException.class, executable);
        assertEquals(call, e.call());
        assertEquals(Errno.name(errno), e.errnoName());
    }
}
