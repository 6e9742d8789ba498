package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The pacing options refuse values that make no sense, naming the option. */
class PollerRegistryOptionsTest {

  @Test
  void aCallTimeoutMustBePositive() {
    PollerRegistry.Builder builder = PollerRegistry.newBuilder();

    IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
        () -> builder.callTimeout(Duration.ZERO));
    assertEquals("callTimeout must be positive: PT0S", zero.getMessage());
  }

  @Test
  void theCeilingsMayBeZeroButNotNegative() {
    PollerRegistry.Builder builder = PollerRegistry.newBuilder()
        .maxFreshnessWait(Duration.ZERO)
        .maxRetryAfter(Duration.ZERO);

    IllegalArgumentException freshness = assertThrows(IllegalArgumentException.class,
        () -> builder.maxFreshnessWait(Duration.ofSeconds(-1)));
    assertEquals("maxFreshnessWait must not be negative: PT-1S", freshness.getMessage());
    IllegalArgumentException retryAfter = assertThrows(IllegalArgumentException.class,
        () -> builder.maxRetryAfter(Duration.ofSeconds(-1)));
    assertEquals("maxRetryAfter must not be negative: PT-1S", retryAfter.getMessage());
    builder.build().close();
  }
}
