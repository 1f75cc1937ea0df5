package dev.keel.affinity;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The other JVM of {@link CpuReservationsTest}: reserves CPU {@code args[1]} in directory
 * {@code args[0]}, tries CPU {@code args[2]} (which the parent holds), reports both on stdout,
 * then waits on stdin until its parent kills it.
 */
public final class ReservationChild {
    private ReservationChild() {
    }

    public static void main(String[] args) throws IOException {
        CpuReservations r = CpuReservations.in(Path.of(args[0]));
        Optional<CpuLease> mine = r.tryReserve(Integer.parseInt(args[1]));
        System.out.println(mine.isPresent() ? "held " + args[1] : "busy " + args[1]);
        Optional<CpuLease> theirs = r.tryReserve(Integer.parseInt(args[2]));
        System.out.println(theirs.isPresent() ? "held " + args[2] : "busy " + args[2]);
        System.out.println("ready");
        System.out.flush();
        while (System.in.read() >= 0) {
            // Hold the lease until killed (kill -9 is the point) or until stdin closes.
        }
    }
}
