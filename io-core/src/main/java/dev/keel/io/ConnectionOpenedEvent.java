package dev.keel.io;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** JFR: a loop accepted a connection. Made only while a recording enables it ({@link LoopEvents}). */
@Name("dev.keel.io.ConnectionOpened")
@Label("Connection Opened")
@Category({"keel", "I/O"})
@Description("An event loop accepted a TCP connection")
@StackTrace(false)
@Enabled(false) // one per connection: a recording asks for them by name
final class ConnectionOpenedEvent extends Event {
    @Label("Loop")
    int loop;

    @Label("File Descriptor")
    @Description("The socket's descriptor; -1 for an io_uring direct descriptor")
    int fd;

    @Label("Handle")
    long handle;

    @Label("Peer")
    @Description("The remote address, or empty when it could not be read")
    String peer;
}
