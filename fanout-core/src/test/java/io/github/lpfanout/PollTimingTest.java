package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PollTimingTest {
  private static final long MS = 1_000_000L;

  private final PollTiming timing =
      new PollTiming(Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(30));

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
    PollTiming close =
        new PollTiming(Duration.ZERO, Duration.ofSeconds(20), Duration.ofSeconds(30));

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
        long delay = timing.delayAfterFailureNanos(failures, 0, now);
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
      long delay = timing.delayAfterFailureNanos(1, 0, 10_000 * MS);
      lowest = Math.min(lowest, delay);
      highest = Math.max(highest, delay);
    }

    assertTrue(lowest < backoff / 2 + backoff / 10, "lowest " + lowest);
    assertTrue(highest > backoff - backoff / 10, "highest " + highest);
  }

  @Test
  void successWaitsOutTheMinimumGapSinceTheLastStart() {
    assertEquals(70 * MS, timing.delayAfterSuccessNanos(1000 * MS, 1030 * MS));
    assertEquals(100 * MS, timing.delayAfterSuccessNanos(1000 * MS, 1000 * MS));
  }

  @Test
  void successAfterTheGapPollsAtOnce() {
    assertEquals(0, timing.delayAfterSuccessNanos(1000 * MS, 1100 * MS));
    assertEquals(0, timing.delayAfterSuccessNanos(1000 * MS, 5000 * MS));
  }

  @Test
  void failureNeverPollsSoonerThanTheMinimumGap() {
    PollTiming slowGap =
        new PollTiming(Duration.ofSeconds(1), Duration.ofMillis(10), Duration.ofMillis(20));

    long delay = slowGap.delayAfterFailureNanos(1, 1000 * MS, 1010 * MS);

    assertEquals(990 * MS, delay);
  }

  @Test
  void zeroGapNeverWaitsAfterSuccess() {
    PollTiming noGap = new PollTiming(Duration.ZERO, Duration.ofMillis(10), Duration.ofMillis(20));

    assertEquals(0, noGap.delayAfterSuccessNanos(1000 * MS, 1000 * MS));
  }
}
