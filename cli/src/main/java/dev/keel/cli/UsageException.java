package dev.keel.cli;

/** A bad command-line argument; its message is the one-line reason printed to the user. */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
