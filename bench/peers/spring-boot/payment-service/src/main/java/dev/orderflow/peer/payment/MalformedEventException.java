package dev.orderflow.peer.payment;

/** An OrderCreated the service cannot read: straight to the DLT, no retry. */
public class MalformedEventException extends RuntimeException {
    public MalformedEventException(String message, Throwable cause) {
        super(message, cause);
    }
}
