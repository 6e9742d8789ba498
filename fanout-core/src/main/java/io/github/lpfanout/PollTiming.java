package io.github.lpfanout;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When a poller sends its next request: after a success, no sooner than the minimum gap after the
 * previous request started; after failures, exponential backoff with jitter.
 */
record PollTiming(Duration minPollGap, Duration initialBackoff, Duration maxBackoff) {

  /** Nanoseconds to wait before the next request, given when the last one started. */
  long delayAfterSuccessNanos(long lastStartNanos, long nowNanos) {
    return Math.max(0, lastStartNanos + minPollGap.toNanos() - nowNanos);
  }

  /**
   * Nanoseconds to wait after {@code failures} failures in a row: the backoff doubles from the
   * initial value up to the maximum, and the wait is drawn from its upper half so that pollers that
   * failed together spread out.
   */
  long delayAfterFailureNanos(int failures, long lastStartNanos, long nowNanos) {
    long backoff = backoffNanos(failures);
    long jittered = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
    return Math.max(jittered, delayAfterSuccessNanos(lastStartNanos, nowNanos));
  }

  /** The backoff ceiling after {@code failures} failures, before jitter. */
  long backoffNanos(int failures) {
    long max = maxBackoff.toNanos();
    long backoff = initialBackoff.toNanos();
    for (int i = 1; i < failures && backoff < max; i++) {
      backoff *= 2;
    }
    return Math.min(backoff, max);
  }
}
