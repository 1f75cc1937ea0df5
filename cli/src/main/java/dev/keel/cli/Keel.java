package dev.keel.cli;

import java.io.PrintStream;
import java.lang.module.ModuleDescriptor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code keel} command: {@code keel <command> [options]}. Each subcommand is a
 * {@link Command}; this class only dispatches, prints help and turns a bad argument into a
 * one-line reason with exit status 2.
 */
public final class Keel {
    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    private final Map<String, Command> commands = new LinkedHashMap<>();

    Keel() {
    }

    Keel register(Command command) {
        commands.put(command.name(), command);
        return this;
    }

    /** The subcommands this build ships. */
    static Keel standard() {
        return new Keel()
                .register(new ServeCommand())
                .register(new EchoCommand())
                .register(new UdpEchoCommand())
                .register(new ProxyCommand())
                .register(new LoadCommand())
                .register(new CpusCommand())
                .register(new NumaCommand())
                .register(new TuneCommand())
                .register(new TrainCommand());
    }

    public static void main(String[] args) {
        // Lock files of the CPUs this process reserves name it the way its user typed it.
        System.setProperty(dev.keel.affinity.CpuReservations.COMMAND_PROPERTY, "keel " + String.join(" ", args));
        String unused = AotCache.unusedReason(System.getProperty(AotCache.PROPERTY), System.getProperty("java.vm.info"));
        if (unused != null) {
            System.err.println("keel: " + unused);
        }
        System.exit(standard().run(args, System.out, System.err));
    }

    int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            out.print(help());
            return EXIT_OK;
        }
        if (args[0].equals("--version") || args[0].equals("-V")) {
            out.println("keel " + version());
            return EXIT_OK;
        }
        Command command = commands.get(args[0]);
        if (command == null) {
            err.println("keel: unknown command '" + args[0] + "' (see keel --help)");
            return EXIT_USAGE;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            return command.run(rest, out, err);
        } catch (UsageException e) {
            err.println("keel " + command.name() + ": " + e.getMessage());
            return EXIT_USAGE;
        }
    }

    String help() {
        StringBuilder sb = new StringBuilder();
        sb.append("keel ").append(version())
          .append(" - Linux networking toolkit for the JVM (FFM: epoll, io_uring, sendfile, splice, NUMA)\n\n")
          .append("usage: keel <command> [options]\n       keel --help | --version\n\ncommands:\n");
        if (commands.isEmpty()) {
            sb.append("  (none in this build yet)\n");
        }
        for (Command c : commands.values()) {
            sb.append(String.format("  %-7s %s%n", c.name(), c.summary()));
        }
        sb.append("\n'keel <command> --help' describes a command's options.\n");
        return sb.toString();
    }

    /** The module's version on the module path (bin/keel), the jar manifest's on the class path, else "dev". */
    static String version() {
        ModuleDescriptor module = Keel.class.getModule().getDescriptor();
        String v = module != null ? module.rawVersion().orElse(null) : Keel.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }
}
