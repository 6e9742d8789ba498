package io.github.lpfanout;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When a poller sends its next request. After a success, no sooner than the minimum gap after the
 * previous request started, and not while the upstream said its response stays fresh (up to a
 * ceiling). After failures, exponential backoff with jitter, and not before a {@code Retry-After}
 * the upstream sent (up to a ceiling of its own).
 *
 * <p>Immutable and thread-safe.
 *
 * @param minPollGap least time from the start of one request to the start of the next
 * @param initialBackoff backoff after the first failure in a row
 * @param maxBackoff the largest backoff, before jitter
 * @param maxFreshnessWait the longest a fresh response holds back the next request; zero ignores
 *     freshness
 * @param maxRetryAfter the longest a {@code Retry-After} holds back the next request; zero ignores
 *     it
 */
record PollTiming(
    Duration minPollGap,
    Duration initialBackoff,
    Duration maxBackoff,
    Duration maxFreshnessWait,
    Duration maxRetryAfter) {

  /**
   * Nanoseconds to wait after a success before the next request.
   *
   * @param lastStartNanos when the last request started ({@link System#nanoTime()})
   * @param nowNanos now ({@link System#nanoTime()})
   * @param freshForNanos how much longer the upstream said its response stays fresh; 0 if not
   */
  long delayAfterSuccessNanos(long lastStartNanos, long nowNanos, long freshForNanos) {
    long fresh = Math.min(Math.max(0, freshForNanos), maxFreshnessWait.toNanos());
    return Math.max(gapRemainingNanos(lastStartNanos, nowNanos), fresh);
  }

  /**
   * Nanoseconds to wait after {@code failures} failures in a row: the backoff doubles from the
   * initial value up to the maximum, and the wait is drawn from its upper half so that pollers that
   * failed together spread out. A {@code Retry-After} longer than that is waited out instead.
   *
   * @param failures failures in a row, counting this one; at least 1
   * @param lastStartNanos when the last request started ({@link System#nanoTime()})
   * @param nowNanos now ({@link System#nanoTime()})
   * @param retryAfterNanos how much longer the upstream asked us to wait; 0 if it did not
   */
  long delayAfterFailureNanos(
      int failures, long lastStartNanos, long nowNanos, long retryAfterNanos) {
    long backoff = backoffNanos(failures);
    long jittered = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
    long retryAfter = Math.min(Math.max(0, retryAfterNanos), maxRetryAfter.toNanos());
    return Math.max(Math.max(jittered, retryAfter), gapRemainingNanos(lastStartNanos, nowNanos));
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

  private long gapRemainingNanos(long lastStartNanos, long nowNanos) {
    return Math.max(0, lastStartNanos + minPollGap.toNanos() - nowNanos);
  }
}
