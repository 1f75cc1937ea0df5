/**
 * Zero-copy transfers on keel's reactors, in three API packages: file regions and the pipes
 * that carry them ({@code dev.keel.zerocopy}), the HTTP/1.1 static file server and the metrics
 * endpoint ({@code dev.keel.zerocopy.http}), and the splice proxy ({@code dev.keel.zerocopy.proxy}).
 * Their classes that are not API are package-private. Makes no restricted FFM call itself.
 */
module dev.keel.zerocopy {
    requires transitive dev.keel.io;

    exports dev.keel.zerocopy;
    exports dev.keel.zerocopy.http;
    exports dev.keel.zerocopy.proxy;
}
