package io.github.lpfanout.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Bounded waits on a condition, so that no test sleeps for a fixed time. */
public final class Await {
  private static final long CHECK_EVERY_MILLIS = 5;

  private Await() {}

  /**
   * Returns as soon as {@code condition} holds, or fails the test naming {@code what} if it does
   * not hold within {@code bound}.
   */
  public static void await(Duration bound, String what, BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + bound.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        fail("not within " + bound.toMillis() + " ms: " + what);
      }
      Thread.sleep(CHECK_EVERY_MILLIS);
    }
  }

  /** Like {@link #await(Duration, String, BooleanSupplier)} with a bound of 5 seconds. */
  public static void await(String what, BooleanSupplier condition) throws InterruptedException {
    await(Duration.ofSeconds(5), what, condition);
  }
}
