package dev.keel.io;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR: a connection's slot was released and its handler heard onClose. */
@Name("dev.keel.io.ConnectionClosed")
@Label("Connection Closed")
@Category({"keel", "I/O"})
@Description("An event loop closed a TCP connection")
@StackTrace(false)
@Enabled(false) // one per connection: a recording asks for them by name
final class ConnectionClosedEvent extends Event {
    @Label("Loop")
    int loop;

    @Label("File Descriptor")
    int fd;

    @Label("Handle")
    long handle;

    @Label("Reason")
    @Description("The CloseReason: PEER_CLOSED, LOCAL, RESET, IDLE_TIMEOUT, ...")
    String reason;
}
