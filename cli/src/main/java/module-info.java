/** The {@code keel} command: serve, echo, proxy, cpus, numa. */
module dev.keel.cli {
    requires dev.keel.zerocopy;
    requires dev.keel.numa;
}
