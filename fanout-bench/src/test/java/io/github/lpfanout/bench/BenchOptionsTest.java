package io.github.lpfanout.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The benchmark's flags for the baseline and for repeating it: what runs, and how often. */
class BenchOptionsTest {

  @Test
  void baselineIsTheNonBlockingServerUnlessTold() {
    assertEquals("nio", BenchOptions.parse(new String[0]).baselineServer());
    assertEquals("jdk",
        BenchOptions.parse(new String[] {"--baseline-server=jdk"}).baselineServer());
  }

  @Test
  void unknownBaselineServerIsRefusedByName() {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse(new String[] {"--baseline-server=JDK"}));
    assertEquals("unknown baseline server \"JDK\"; known: nio, jdk, jetty", refused.getMessage());
  }

  @Test
  void baselineWritesOnEveryCoreUnlessTold() {
    assertEquals(Runtime.getRuntime().availableProcessors(),
        BenchOptions.parse(new String[0]).baselineThreads());
    assertEquals(1, BenchOptions.parse(new String[] {"--baseline-threads=1"}).baselineThreads());
  }

  @Test
  void baselineNeedsAThreadToWrite() {
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse(new String[] {"--baseline-threads=0"}));
    assertEquals("--baseline-threads must be at least 1", refused.getMessage());
  }

  @Test
  void oneRoundUnlessToldAndNeverNone() {
    assertEquals(1, BenchOptions.parse(new String[0]).rounds());
    assertEquals(3, BenchOptions.parse(new String[] {"--rounds=3"}).rounds());
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> BenchOptions.parse(new String[] {"--rounds=0"}));
    assertEquals("--rounds must be at least 1", refused.getMessage());
  }
}
