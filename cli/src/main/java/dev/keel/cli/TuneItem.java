package dev.keel.cli;

import java.util.List;

/**
 * One line of the {@code keel tune} checklist: a setting, what it is, what a latency-critical
 * server wants and why, how to change it, and, where keel can, the file writes that do it.
 *
 * @param id       stable name for scripts, e.g. {@code "vm.swappiness"}
 * @param title    for people, e.g. {@code "swappiness"}
 * @param status   whether it is as wanted
 * @param current  what is set now, in the kernel's words
 * @param wanted   what a latency-critical server wants
 * @param why      the reason, in a sentence
 * @param commands what a tuner would run to change it (empty when nothing needs changing)
 * @param fixes    the writes {@code --apply} makes (empty when keel does not change it itself:
 *                 a service, the boot command line, a limit of other processes)
 */
record TuneItem(String id, String title, Status status, String current, String wanted, String why,
                List<String> commands, List<Fix> fixes) {
    /** How the setting compares with what is wanted. */
    enum Status {
        /** As wanted. */
        OK,
        /** To change: {@code --strict} exits 1. */
        FAIL,
        /** Not applicable here, or a choice rather than a rule. */
        INFO
    }

    /**
     * One file write of {@code --apply}.
     *
     * @param file  below the root, e.g. {@code "proc/sys/vm/swappiness"}
     * @param value what to write
     */
    record Fix(String file, String value) {
    }

    TuneItem {
        commands = List.copyOf(commands);
        fixes = List.copyOf(fixes);
    }

    static TuneItem ok(String id, String title, String current, String wanted, String why) {
        return new TuneItem(id, title, Status.OK, current, wanted, why, List.of(), List.of());
    }

    static TuneItem info(String id, String title, String current, String wanted, String why) {
        return new TuneItem(id, title, Status.INFO, current, wanted, why, List.of(), List.of());
    }

    static TuneItem fail(String id, String title, String current, String wanted, String why, List<String> commands,
                         List<Fix> fixes) {
        return new TuneItem(id, title, Status.FAIL, current, wanted, why, commands, fixes);
    }
}
