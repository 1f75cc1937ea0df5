package dev.keel.ffm;

/**
 * Run in a child JVM told it is on another architecture ({@code -Dos.arch}): uses a binding
 * and prints whether it was refused, and why.
 */
public final class ArchitectureProbe {
    private ArchitectureProbe() {
    }

    public static void main(String[] args) {
        try {
            int fd = EventFd.create(0, 0);
            Files.close(fd);
            System.out.println("the binding ran");
        } catch (Throwable t) {
            Throwable cause = t.getCause() == null ? t : t.getCause();
            System.out.println("refused: " + t.getClass().getName() + ": " + cause.getMessage());
        }
    }
}
