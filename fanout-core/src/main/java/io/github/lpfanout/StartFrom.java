package io.github.lpfanout;

import java.util.Objects;

/**
 * Where a new subscription starts in each URL's {@link History}: what it is sent before the
 * messages that arrive after it subscribed.
 *
 * <p>Whatever the start, the messages sent first and the live ones after them meet without a gap
 * and without a repeat, even while messages keep arriving as the subscription is made: for each
 * message of its URLs, a subscriber either is sent it once or was never meant to be.
 *
 * <p>Immutable.
 */
public final class StartFrom {
  private static final StartFrom LIVE = new StartFrom(Kind.LIVE, null);
  private static final StartFrom LATEST = new StartFrom(Kind.LATEST, null);

  enum Kind { LIVE, LATEST, AFTER }

  private final Kind kind;
  private final String lastEventId;

  private StartFrom(Kind kind, String lastEventId) {
    this.kind = kind;
    this.lastEventId = lastEventId;
  }

  /** Only messages that arrive after the subscription was made. */
  public static StartFrom live() {
    return LIVE;
  }

  /** First the latest message of each URL that has one, then what arrives. */
  public static StartFrom latest() {
    return LATEST;
  }

  /**
   * First every kept message of each URL that came after the message {@code lastEventId} names,
   * oldest first, then what arrives. If that cannot be told exactly, because the id is not one of
   * this registry's run or messages the client missed were already dropped from a URL's history,
   * the latest message of that URL is sent instead.
   *
   * @param lastEventId an id as a client sent it back, usually as {@code Last-Event-ID}; it need
   *     not be well-formed
   */
  public static StartFrom after(String lastEventId) {
    return new StartFrom(Kind.AFTER, Objects.requireNonNull(lastEventId, "lastEventId"));
  }

  Kind kind() {
    return kind;
  }

  /** The id given to {@link #after}, or null for the other starts. */
  public String lastEventId() {
    return lastEventId;
  }

  @Override
  public String toString() {
    return switch (kind) {
      case LIVE -> "StartFrom.live()";
      case LATEST -> "StartFrom.latest()";
      case AFTER -> "StartFrom.after(" + lastEventId + ")";
    };
  }
}
