package dev.keel.io;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

/** JFR: a loop pass whose busy part took longer than the loop's stall threshold. */
@Name("dev.keel.io.LoopStall")
@Label("Loop Stall")
@Category({"keel", "I/O"})
@Description("An event loop pass kept the loop thread from its sockets longer than the stall threshold")
@StackTrace(false)
final class LoopStallEvent extends Event {
    @Label("Loop")
    int loop;

    @Label("Busy Time")
    @Description("The pass's duration minus its blocking wait for events")
    @Timespan(Timespan.NANOSECONDS)
    long busy;

    @Label("Pass")
    @Description("The number of the pass (passes run so far, this one included)")
    long pass;

    @Label("System Calls")
    @Description("System calls the loop thread made during the pass")
    long syscalls;
}
