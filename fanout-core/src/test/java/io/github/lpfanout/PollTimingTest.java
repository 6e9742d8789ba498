package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The delay before each next request, from the gap, freshness, backoff and Retry-After. */
class PollTimingTest {
  private static final long MS = 1_000_000;
  private static final long START = 1_000 * MS;

  private final PollTiming timing = new PollTiming(Duration.ofMillis(100), Duration.ofMillis(500),
      Duration.ofSeconds(4), Duration.ofSeconds(60), Duration.ofSeconds(30));

  @Test
  void aSuccessWaitsOutTheMinimumGapFromTheStartOfTheLastRequest() {
    assertEquals(70 * MS, timing.delayAfterSuccessNanos(START, START + 30 * MS, 0));
    assertEquals(0, timing.delayAfterSuccessNanos(START, START + 500 * MS, 0));
  }

  @Test
  void aFreshResponseHoldsBackTheNextRequestUpToTheCeiling() {
    assertEquals(5_000 * MS, timing.delayAfterSuccessNanos(START, START, 5_000 * MS));
    assertEquals(60_000 * MS, timing.delayAfterSuccessNanos(START, START, 86_400_000 * MS));
    assertEquals(100 * MS, timing.delayAfterSuccessNanos(START, START, 40 * MS));
  }

  @Test
  void aZeroCeilingIgnoresFreshness() {
    PollTiming ignoring = new PollTiming(Duration.ofMillis(100), Duration.ofMillis(500),
        Duration.ofSeconds(4), Duration.ZERO, Duration.ZERO);

    assertEquals(100 * MS, ignoring.delayAfterSuccessNanos(START, START, 5_000 * MS));
    long afterFailure = ignoring.delayAfterFailureNanos(1, START, START, 20_000 * MS);
    assertTrue(afterFailure <= 500 * MS, "Retry-After ignored: " + afterFailure);
  }

  @Test
  void backoffDoublesFromTheInitialValueUpToTheMaximum() {
    assertEquals(500 * MS, timing.backoffNanos(1));
    assertEquals(1_000 * MS, timing.backoffNanos(2));
    assertEquals(2_000 * MS, timing.backoffNanos(3));
    assertEquals(4_000 * MS, timing.backoffNanos(4));
    assertEquals(4_000 * MS, timing.backoffNanos(5));
    assertEquals(4_000 * MS, timing.backoffNanos(Integer.MAX_VALUE));
  }

  @Test
  void theWaitAfterAFailureIsDrawnFromTheUpperHalfOfTheBackoff() {
    for (int failures = 1; failures <= 6; failures++) {
      long backoff = timing.backoffNanos(failures);
      for (int i = 0; i < 200; i++) {
        long delay = timing.delayAfterFailureNanos(failures, START, START + 1_000 * MS, 0);
        assertTrue(delay >= backoff / 2 && delay <= backoff,
            failures + " failures: " + delay + " outside [" + backoff / 2 + ", " + backoff + "]");
      }
    }
  }

  @Test
  void aRetryAfterLongerThanTheBackoffIsWaitedOutUpToItsCeiling() {
    assertEquals(10_000 * MS, timing.delayAfterFailureNanos(1, START, START, 10_000 * MS));
    assertEquals(30_000 * MS, timing.delayAfterFailureNanos(1, START, START, 3_600_000 * MS));
  }

  @Test
  void aRetryAfterShorterThanTheBackoffLeavesTheBackoff() {
    long delay = timing.delayAfterFailureNanos(3, START, START, 10 * MS);
    assertTrue(delay >= 1_000 * MS, "backoff kept: " + delay);
  }

  @Test
  void theMinimumGapStillHoldsAfterAFailure() {
    PollTiming wideGap = new PollTiming(Duration.ofSeconds(2), Duration.ofMillis(10),
        Duration.ofMillis(20), Duration.ofSeconds(60), Duration.ofSeconds(30));

    assertEquals(2_000 * MS, wideGap.delayAfterFailureNanos(1, START, START, 0));
  }
}
