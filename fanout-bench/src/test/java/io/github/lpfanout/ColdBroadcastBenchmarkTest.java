package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The cold broadcast does what it claims to measure: every client gets the frame, copied once. */
class ColdBroadcastBenchmarkTest {

  @Test
  void everyClientGetsTheFrameCopiedIntoItsBufferWhetherItsUrlIsItsOwnOrShared() {
    for (String urls : new String[] {"own", "shared"}) {
      ColdBroadcastBenchmark benchmark = new ColdBroadcastBenchmark();
      benchmark.subscribers = 50;
      benchmark.urls = urls;
      benchmark.setUp();

      int frameBytes = benchmark.copyOnly() / 50;
      assertEquals(50 * frameBytes, benchmark.broadcast(), urls);
      assertEquals(50 * frameBytes, benchmark.broadcast(), urls + ", second message");
    }
  }
}
