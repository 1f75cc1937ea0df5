/**
 * The {@code keel} command: serve, echo, proxy, load, cpus, numa, tune. Runs on the module path
 * ({@code bin/keel}: {@code -m dev.keel.cli/dev.keel.cli.Keel}); exports nothing.
 */
module dev.keel.cli {
    requires dev.keel.ffm;
    requires dev.keel.affinity;
    requires dev.keel.numa;
    requires dev.keel.io;
    requires dev.keel.zerocopy;
    // sun.misc.Signal: SIGHUP reloads keel serve's TLS certificate (TlsOptions)
    requires jdk.unsupported;
}
