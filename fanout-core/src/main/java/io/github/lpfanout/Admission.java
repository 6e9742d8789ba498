package io.github.lpfanout;

import java.util.Objects;

/**
 * The outcome of {@link Fanout#open}: a stream to serve, or a complete answer that ends the
 * request.
 */
public sealed interface Admission {

  /** The client was admitted and subscribed; serve {@code stream} until it finishes. */
  record Admitted(ClientStream stream) implements Admission {
    public Admitted {
      Objects.requireNonNull(stream, "stream");
    }
  }

  /** The client was refused; send {@code refusal} and end the request. */
  record Refused(Refusal refusal) implements Admission {
    public Refused {
      Objects.requireNonNull(refusal, "refusal");
    }
  }
}
