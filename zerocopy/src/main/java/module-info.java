/** File regions and pipes, the HTTP/1.1 static file server and the splice proxy, on keel's reactors. */
module dev.keel.zerocopy {
    requires transitive dev.keel.io;

    exports dev.keel.zerocopy;
}
