/**
 * keel's FFM bindings: downcalls to libc and raw Linux system calls, and the constants and
 * struct layouts generated from the kernel headers. The only keel module that makes restricted
 * FFM calls, so the only one granted native access ({@code --enable-native-access=dev.keel.ffm}).
 */
module dev.keel.ffm {
    exports dev.keel.ffm;
    exports dev.keel.ffm.gen;
}
