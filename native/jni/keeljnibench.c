/*
 * The smallest JNI library that lets bench/ compare a JNI downcall with FFM and JNA on the
 * same two calls: getpid(2) and a one-byte write(2).
 */
#include <jni.h>
#include <unistd.h>

JNIEXPORT jint JNICALL Java_dev_keel_bench_JniCalls_getpid(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    return (jint) getpid();
}

JNIEXPORT jlong JNICALL Java_dev_keel_bench_JniCalls_write(JNIEnv *env, jclass cls, jint fd, jlong addr, jlong len) {
    (void) env; (void) cls;
    return (jlong) write(fd, (const void *) (long) addr, (size_t) len);
}
