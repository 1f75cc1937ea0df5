/**
 * FFM downcalls to libc and raw Linux system calls: one class per kernel interface, static
 * final method handles called with {@code invokeExact}, errno captured per thread, failures
 * as {@link dev.keel.ffm.SyscallException}. EAGAIN, EINTR and EINPROGRESS come back as
 * {@code -errno} where a caller expects them.
 */
package dev.keel.ffm;
