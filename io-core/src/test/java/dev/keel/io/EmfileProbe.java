package dev.keel.io;

import java.io.BufferedReader;
import java.io.InputStreamReader;

/**
 * A child-process echo server for the EMFILE test: started under a low RLIMIT_NOFILE on the
 * transport its argument names, it prints its port, answers "stats" on stdin with its
 * accept-failure count, and exits when stdin closes.
 */
public final class EmfileProbe {
    private EmfileProbe() {
    }

    public static void main(String[] args) throws Exception {
        LoopOptions options = LoopOptions.builder().acceptRetry(java.time.Duration.ofMillis(50)).build();
        try (EventLoopGroup group = EventLoopGroup.builder().options(options).transport(Transport.parse(args[0]))
                .handler((connection, data) -> connection.write(data)).start()) {
            System.out.println("port " + group.port());
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.equals("stats")) {
                    LoopStats st = group.loops().get(0).stats();
                    System.out.println("accept-failures " + st.acceptFailures() + " accepted " + st.accepted()
                            + " aborted " + st.acceptAborted() + " rejected " + st.rejected() + " loop-failures "
                            + st.loopFailures() + " passes " + st.passes());
                }
            }
        }
    }
}
