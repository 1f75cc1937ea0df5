package dev.keel.ffm;

import dev.keel.ffm.gen.LinuxConstants;
import dev.keel.ffm.gen.LinuxLayouts.SeccompData;
import dev.keel.ffm.gen.LinuxLayouts.SockFilter;
import dev.keel.ffm.gen.LinuxLayouts.SockFprog;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * seccomp(2) filters, to make the calling thread see what a container's seccomp profile does:
 * chosen system calls fail with a chosen errno.
 *
 * <pre>{@code
 * int seccomp(unsigned int operation, unsigned int flags, void *args);
 * int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5);
 * struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; };
 * struct sock_fprog  { unsigned short len; struct sock_filter *filter; };
 * }</pre>
 *
 * The filter is installed without SECCOMP_FILTER_FLAG_TSYNC, so it binds the calling thread
 * (and threads it creates later) only, for the rest of its life: run it on a thread made for
 * the purpose.
 */
public final class Seccomp {
    // BPF jump offsets are one byte.
    private static final int MAX_SYSCALLS = 250;

    private Seccomp() {
    }

    /**
     * Makes each of {@code syscalls} (SYS_* numbers) fail with {@code errno} on the calling
     * thread from now on; every other call is allowed. Sets no_new_privs first, which the
     * kernel requires of an unprivileged filter.
     */
    public static void denyOnCurrentThread(int errno, int... syscalls) {
        if (syscalls.length == 0 || syscalls.length > MAX_SYSCALLS) {
            throw new IllegalArgumentException("between 1 and " + MAX_SYSCALLS + " system calls, not " + syscalls.length);
        }
        MemorySegment st = CallState.current();
        Downcalls.check("prctl", Syscall.call5(st, LinuxConstants.SYS_prctl,
                LinuxConstants.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), st);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment program = program(arena, errno, syscalls);
            MemorySegment fprog = arena.allocate(SockFprog.SIZE, SockFprog.ALIGNMENT);
            fprog.set(JAVA_SHORT, SockFprog.LEN, (short) (program.byteSize() / SockFilter.SIZE));
            fprog.set(ADDRESS, SockFprog.FILTER, program);
            Downcalls.check("seccomp", Syscall.call3(st, LinuxConstants.SYS_seccomp,
                    LinuxConstants.SECCOMP_SET_MODE_FILTER, 0, fprog.address()), st);
        }
    }

    /*
     * 0      ld  [arch]
     * 1      jeq AUDIT_ARCH_NATIVE ? next : allow     (numbers differ on other ABIs)
     * 2      ld  [nr]
     * 3+i    jeq syscalls[i] ? deny : next
     * 3+n    ret ALLOW
     * 4+n    ret ERRNO | errno
     */
    private static MemorySegment program(Arena arena, int errno, int[] syscalls) {
        int n = syscalls.length;
        MemorySegment p = arena.allocate(SockFilter.SIZE * (n + 5), SockFilter.ALIGNMENT);
        int ld = LinuxConstants.BPF_LD | LinuxConstants.BPF_W | LinuxConstants.BPF_ABS;
        int jeq = LinuxConstants.BPF_JMP | LinuxConstants.BPF_JEQ | LinuxConstants.BPF_K;
        int ret = LinuxConstants.BPF_RET | LinuxConstants.BPF_K;
        put(p, 0, ld, 0, 0, (int) SeccompData.ARCH);
        put(p, 1, jeq, 0, n + 1, LinuxConstants.AUDIT_ARCH_NATIVE);
        put(p, 2, ld, 0, 0, (int) SeccompData.NR);
        for (int i = 0; i < n; i++) {
            put(p, 3 + i, jeq, n - i, 0, syscalls[i]);
        }
        put(p, 3 + n, ret, 0, 0, LinuxConstants.SECCOMP_RET_ALLOW);
        put(p, 4 + n, ret, 0, 0, LinuxConstants.SECCOMP_RET_ERRNO | (errno & LinuxConstants.SECCOMP_RET_DATA));
        return p;
    }

    private static void put(MemorySegment p, int index, int code, int jt, int jf, int k) {
        long at = index * SockFilter.SIZE;
        p.set(JAVA_SHORT, at + SockFilter.CODE, (short) code);
        p.set(JAVA_BYTE, at + SockFilter.JT, (byte) jt);
        p.set(JAVA_BYTE, at + SockFilter.JF, (byte) jf);
        p.set(JAVA_INT, at + SockFilter.K, k);
    }
}
