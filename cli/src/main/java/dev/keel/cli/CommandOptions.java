package dev.keel.cli;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The options of one subcommand: {@code --name value}, {@code --name=value} and bare flags.
 * Anything unknown, repeated, positional or missing its value is a {@link UsageException}
 * naming it, so every command refuses bad arguments with one line.
 */
final class CommandOptions {
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new HashSet<>();

    private CommandOptions() {
    }

    /**
     * @param valued names (without dashes) of options that take a value
     * @param bare   names of flags
     */
    static CommandOptions parse(String[] args, Set<String> valued, Set<String> bare) {
        CommandOptions o = new CommandOptions();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new UsageException("unexpected argument '" + arg + "'");
            }
            String name = arg.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (bare.contains(name) && value == null) {
                if (!o.flags.add(name)) {
                    throw new UsageException("--" + name + " given twice");
                }
            } else if (valued.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.length) {
                        throw new UsageException("--" + name + " needs a value");
                    }
                    value = args[++i];
                }
                if (o.values.put(name, value) != null) {
                    throw new UsageException("--" + name + " given twice");
                }
            } else {
                throw new UsageException("unknown option --" + name);
            }
        }
        return o;
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    String value(String name, String otherwise) {
        return values.getOrDefault(name, otherwise);
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    /** The integer value of {@code --name} in {@code [min, max]}, or {@code otherwise} when absent. */
    int integer(String name, int otherwise, int min, int max) {
        String v = values.get(name);
        if (v == null) {
            return otherwise;
        }
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " needs a number, not '" + v + "'");
        }
        if (n < min || n > max) {
            throw new UsageException("--" + name + " must be between " + min + " and " + max + ", not " + n);
        }
        return n;
    }
}
