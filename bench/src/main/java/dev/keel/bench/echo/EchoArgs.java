package dev.keel.bench.echo;

import java.net.InetAddress;

/** What the benchmark's Java echo servers share: the port argument, the address, the backlog. */
final class EchoArgs {
    /** The listen backlog of every peer (the C server's too), so a connection sweep never overflows one. */
    static final int BACKLOG = 4096;
    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private EchoArgs() {
    }

    static int port(String[] args, String name) {
        if (args.length != 1) {
            System.err.println("usage: " + name + " PORT");
            System.exit(2);
        }
        try {
            return Integer.parseInt(args[0]);
        } catch (NumberFormatException e) {
            System.err.println(name + ": not a port: " + args[0]);
            System.exit(2);
            return -1;
        }
    }
}
