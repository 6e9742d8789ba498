package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The delay before each next request, from the gap, freshness, backoff and Retry-After. */
class PollTimingTest {
  private static final long MS = 1_000_000L;

  private static final Duration FRESHNESS_CEILING = Duration.ofSeconds(60);
  private static final Duration RETRY_AFTER_CEILING = Duration.ofSeconds(40);

  private final PollTiming timing = timing(Duration.ofMillis(100), Duration.ofMillis(500),
      Duration.ofSeconds(30));

  private static PollTiming timing(Duration minPollGap, Duration initial, Duration max) {
    return new PollTiming(minPollGap, initial, max, FRESHNESS_CEILING, RETRY_AFTER_CEILING);
  }

  @Test
  void backoffStartsAtTheInitialValueAndDoublesAfterEachFailure() {
    assertEquals(500 * MS, timing.backoffNanos(1));
    assertEquals(1000 * MS, timing.backoffNanos(2));
    assertEquals(2000 * MS, timing.backoffNanos(3));
    assertEquals(16_000 * MS, timing.backoffNanos(6));
  }

  @Test
  void backoffIsCappedAtTheMaximum() {
    assertEquals(30_000 * MS, timing.backoffNanos(7));
    assertEquals(30_000 * MS, timing.backoffNanos(8));
    assertEquals(30_000 * MS, timing.backoffNanos(1_000_000));
    assertEquals(30_000 * MS, timing.backoffNanos(Integer.MAX_VALUE));
  }

  @Test
  void backoffIsCappedWhenDoublingWouldOvershootTheMaximum() {
    PollTiming close = timing(Duration.ZERO, Duration.ofSeconds(20), Duration.ofSeconds(30));

    assertEquals(20_000 * MS, close.backoffNanos(1));
    assertEquals(30_000 * MS, close.backoffNanos(2));
  }

  @Test
  void failureDelayIsDrawnFromTheUpperHalfOfTheBackoff() {
    long now = 10_000 * MS;
    for (int failures = 1; failures <= 8; failures++) {
      long backoff = timing.backoffNanos(failures);
      Set<Long> seen = new HashSet<>();
      for (int i = 0; i < 500; i++) {
        long delay = timing.delayAfterFailureNanos(failures, 0, now, 0);
        assertTrue(delay >= backoff / 2 && delay <= backoff,
            "delay " + delay + " outside [" + backoff / 2 + ", " + backoff + "]");
        seen.add(delay);
      }
      assertTrue(seen.size() > 100, "jitter spreads the delays: " + seen.size() + " distinct");
    }
  }

  @Test
  void jitterReachesBothEndsOfItsRange() {
    long backoff = timing.backoffNanos(1);
    long lowest = Long.MAX_VALUE;
    long highest = 0;
    for (int i = 0; i < 2000; i++) {
      long delay = timing.delayAfterFailureNanos(1, 0, 10_000 * MS, 0);
      lowest = Math.min(lowest, delay);
      highest = Math.max(highest, delay);
    }

    assertTrue(lowest < backoff / 2 + backoff / 10, "lowest " + lowest);
    assertTrue(highest > backoff - backoff / 10, "highest " + highest);
  }

  @Test
  void successWaitsOutTheMinimumGapSinceTheLastStart() {
    assertEquals(70 * MS, timing.delayAfterSuccessNanos(1000 * MS, 1030 * MS, 0));
    assertEquals(100 * MS, timing.delayAfterSuccessNanos(1000 * MS, 1000 * MS, 0));
  }

  @Test
  void successAfterTheGapPollsAtOnce() {
    assertEquals(0, timing.delayAfterSuccessNanos(1000 * MS, 1100 * MS, 0));
    assertEquals(0, timing.delayAfterSuccessNanos(1000 * MS, 5000 * MS, 0));
  }

  @Test
  void failureNeverPollsSoonerThanTheMinimumGap() {
    PollTiming slowGap =
        timing(Duration.ofSeconds(1), Duration.ofMillis(10), Duration.ofMillis(20));

    long delay = slowGap.delayAfterFailureNanos(1, 1000 * MS, 1010 * MS, 0);

    assertEquals(990 * MS, delay);
  }

  @Test
  void zeroGapNeverWaitsAfterSuccess() {
    PollTiming noGap = timing(Duration.ZERO, Duration.ofMillis(10), Duration.ofMillis(20));

    assertEquals(0, noGap.delayAfterSuccessNanos(1000 * MS, 1000 * MS, 0));
  }

  // --- Freshness and Retry-After --------------------------------------------------------------

  @Test
  void aFreshResponseHoldsBackTheNextRequestUpToTheCeiling() {
    assertEquals(5_000 * MS, timing.delayAfterSuccessNanos(1000 * MS, 1000 * MS, 5_000 * MS));
    assertEquals(FRESHNESS_CEILING.toNanos(),
        timing.delayAfterSuccessNanos(1000 * MS, 1000 * MS, 86_400_000 * MS));
  }

  @Test
  void theMinimumGapStillHoldsAfterAResponseFreshForLess() {
    assertEquals(100 * MS, timing.delayAfterSuccessNanos(1000 * MS, 1000 * MS, 40 * MS));
  }

  @Test
  void zeroCeilingsIgnoreFreshnessAndRetryAfter() {
    PollTiming ignoring = new PollTiming(Duration.ofMillis(100), Duration.ofMillis(500),
        Duration.ofSeconds(4), Duration.ZERO, Duration.ZERO);

    assertEquals(100 * MS, ignoring.delayAfterSuccessNanos(1000 * MS, 1000 * MS, 5_000 * MS));
    long afterFailure = ignoring.delayAfterFailureNanos(1, 1000 * MS, 1000 * MS, 20_000 * MS);
    assertTrue(afterFailure <= 500 * MS, "Retry-After ignored: " + afterFailure);
  }

  @Test
  void aRetryAfterLongerThanTheBackoffIsWaitedOutUpToItsCeiling() {
    assertEquals(10_000 * MS, timing.delayAfterFailureNanos(1, 1000 * MS, 1000 * MS, 10_000 * MS));
    assertEquals(RETRY_AFTER_CEILING.toNanos(),
        timing.delayAfterFailureNanos(1, 1000 * MS, 1000 * MS, 3_600_000 * MS));
  }

  @Test
  void aRetryAfterShorterThanTheBackoffLeavesTheBackoff() {
    long delay = timing.delayAfterFailureNanos(3, 1000 * MS, 1000 * MS, 10 * MS);

    assertTrue(delay >= 1_000 * MS, "backoff kept: " + delay);
  }
}
