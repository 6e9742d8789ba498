package io.github.lpfanout;

import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * How many recent messages a {@link PollerRegistry} keeps for each URL, for clients that join late
 * or reconnect.
 *
 * <p>While a URL has subscribers, its most recent messages are kept, up to {@link
 * Builder#maxMessages} and {@link Builder#maxBytes} of bodies; the oldest go first, but the latest
 * message is always kept, however large. A client that reconnects with the id of a message still
 * kept, or of one that went before the oldest kept, is sent exactly what came after it; a client
 * that joins is sent the latest message.
 *
 * <p>When a URL loses its last subscriber, its poller stops, and its messages are kept as they
 * are, so that a client that reconnects soon after resumes exactly. Such idle URLs are bounded
 * across the registry: at most {@link Builder#idleUrls} of them, with at most {@link
 * Builder#idleBytes} of bodies in all, each for at most {@link Builder#idleFor} after it lost its
 * last subscriber or was last published to. Past a bound, the URLs idle longest are forgotten
 * first. A URL that gets a subscriber again takes up its kept messages.
 *
 * <p>Note: what a reconnecting client is sent first counts against its {@code maxPendingBytes}
 * like any other frames, so a client of many URLs that missed much may be dropped as too slow
 * if it does not read fast; keep {@code maxBytes} times the URLs per client well under that bound.
 *
 * <p>Note: the bounds count body bytes, while a kept message also holds its encoded body once
 * per format it was sent in, and up to 4 KiB of frame heads per format. The SSE encoding is
 * about the body's size for most text, but a body made of line breaks grows seven times (each
 * becomes a {@code data:} line): budget the heap for kept messages at a few times these bounds.
 *
 * <p>Immutable and thread-safe.
 */
public final class History {
  private static final History STANDARD = newBuilder().build();

  private final int maxMessages;
  private final long maxBytes;
  private final int idleUrls;
  private final long idleBytes;
  private final Duration idleFor;
  private final LongSupplier nanoTime;

  private History(Builder builder) {
    this.maxMessages = builder.maxMessages;
    this.maxBytes = builder.maxBytes;
    this.idleUrls = builder.idleUrls;
    this.idleBytes = builder.idleBytes;
    this.idleFor = builder.idleFor;
    this.nanoTime = builder.nanoTime;
  }

  /** The defaults: 100 messages and 256 KiB per URL; 1000 idle URLs, 16 MiB, for 10 minutes. */
  public static History standard() {
    return STANDARD;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  int maxMessages() {
    return maxMessages;
  }

  long maxBytes() {
    return maxBytes;
  }

  int idleUrls() {
    return idleUrls;
  }

  long idleBytes() {
    return idleBytes;
  }

  Duration idleFor() {
    return idleFor;
  }

  long nanoTime() {
    return nanoTime.getAsLong();
  }

  @Override
  public String toString() {
    return "History{" + maxMessages + " messages, " + maxBytes + " bytes per URL; idle: "
        + idleUrls + " URLs, " + idleBytes + " bytes, " + idleFor + "}";
  }

  /** Configures a {@link History}. Not thread-safe. */
  public static final class Builder {
    private int maxMessages = 100;
    private long maxBytes = 256L * 1024;
    private int idleUrls = 1000;
    private long idleBytes = 16L * 1024 * 1024;
    private Duration idleFor = Duration.ofMinutes(10);
    private LongSupplier nanoTime = System::nanoTime;

    private Builder() {}

    /**
     * The most messages kept per URL, at least 1: with 1, a joining client still gets the latest
     * message, and a reconnecting one only whether it missed the latest. Default 100.
     */
    public Builder maxMessages(int maxMessages) {
      if (maxMessages < 1) {
        throw new IllegalArgumentException("maxMessages must be at least 1: " + maxMessages);
      }
      this.maxMessages = maxMessages;
      return this;
    }

    /**
     * The most body bytes kept per URL; older messages are dropped past it, but the latest is
     * kept whatever its size. Default 256 KiB.
     */
    public Builder maxBytes(long maxBytes) {
      if (maxBytes < 0) {
        throw new IllegalArgumentException("maxBytes must not be negative: " + maxBytes);
      }
      this.maxBytes = maxBytes;
      return this;
    }

    /**
     * The most URLs without subscribers whose messages are kept; 0 forgets a URL's messages as
     * soon as its last subscriber leaves, and drops what is published to a URL nobody follows.
     * Default 1000.
     */
    public Builder idleUrls(int idleUrls) {
      if (idleUrls < 0) {
        throw new IllegalArgumentException("idleUrls must not be negative: " + idleUrls);
      }
      this.idleUrls = idleUrls;
      return this;
    }

    /** The most body bytes kept for all URLs without subscribers together. Default 16 MiB. */
    public Builder idleBytes(long idleBytes) {
      if (idleBytes < 0) {
        throw new IllegalArgumentException("idleBytes must not be negative: " + idleBytes);
      }
      this.idleBytes = idleBytes;
      return this;
    }

    /**
     * How long the messages of a URL without subscribers are kept after it lost its last
     * subscriber or was last published to. Default 10 minutes.
     */
    public Builder idleFor(Duration idleFor) {
      if (idleFor.isNegative()) {
        throw new IllegalArgumentException("idleFor must not be negative: " + idleFor);
      }
      this.idleFor = idleFor;
      return this;
    }

    /** The clock that idle ages are measured with; for tests. */
    Builder nanoTime(LongSupplier nanoTime) {
      this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
      return this;
    }

    public History build() {
      return new History(this);
    }
  }
}
