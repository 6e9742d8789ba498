package io.github.lpfanout;

import java.util.Objects;

/**
 * The id a {@link PollerRegistry} gives each message it delivers, written {@code
 * <run>-<sequence>}, such as {@code mj3k9x2a7q1f-42}.
 *
 * <p>The run names one running registry: the base-36 time it started, in milliseconds since the
 * epoch, and four random base-36 digits, so that two registries started in the same millisecond
 * differ too. The sequence counts every message the registry delivered, across all its URLs, from
 * 1. Within a run, a later message has a higher sequence; an id of another run, such as one a
 * client kept across a restart of the server, is recognised by its run and never compared by
 * sequence.
 *
 * <p>SSE streams carry the id as each event's {@code id:}; a client that reconnects sends the last
 * one back as {@code Last-Event-ID}.
 *
 * @param run the registry's run, lower-case letters and digits
 * @param sequence the message's place in the run, from 1
 */
public record MessageId(String run, long sequence) {
  private static final int MAX_RUN_LENGTH = 32;

  public MessageId {
    Objects.requireNonNull(run, "run");
    if (!isRun(run)) {
      throw new IllegalArgumentException(
          "run must be 1 to 32 lower-case letters and digits: " + run);
    }
    if (sequence < 1) {
      throw new IllegalArgumentException("sequence must be at least 1: " + sequence);
    }
  }

  /**
   * Reads an id written by {@link #toString()}, or returns null if {@code text} is not one: null,
   * empty, or malformed. Nothing is thrown, since the text usually comes from a client.
   */
  public static MessageId parse(String text) {
    if (text == null) {
      return null;
    }
    int dash = text.lastIndexOf('-');
    if (dash < 1 || dash == text.length() - 1 || text.length() - dash - 1 > 18) {
      return null;
    }
    String run = text.substring(0, dash);
    String digits = text.substring(dash + 1);
    if (!isRun(run) || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return null;
    }
    long sequence = Long.parseLong(digits);
    return sequence < 1 ? null : new MessageId(run, sequence);
  }

  private static boolean isRun(String run) {
    return !run.isEmpty() && run.length() <= MAX_RUN_LENGTH
        && run.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'));
  }

  /** {@code <run>-<sequence>}. */
  @Override
  public String toString() {
    return run + "-" + sequence;
  }
}
