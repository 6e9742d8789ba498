package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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
      assertTrue(frameBytes > 1024, urls + ": a frame is its head and the 1 KiB body");
      for (byte[] buffer : benchmark.buffers) {
        Arrays.fill(buffer, (byte) 0);
      }
      assertEquals(50 * frameBytes, benchmark.broadcast(), urls);
      assertEquals(50 * frameBytes, benchmark.broadcast(), urls + ", second message");

      byte[] first = Arrays.copyOf(benchmark.buffers.get(0), frameBytes);
      assertTrue(new String(first, StandardCharsets.UTF_8).startsWith("event: http://"), urls);
      for (byte[] buffer : benchmark.buffers) {
        assertArrayEquals(first, Arrays.copyOf(buffer, frameBytes), urls);
      }
      UpstreamUrl url0 = benchmark.streams.get(0).urls().get(0);
      UpstreamUrl url1 = benchmark.streams.get(1).urls().get(0);
      if (urls.equals("own")) {
        assertNotSame(url0.spelling(), url1.spelling(), "each client parses its own URL");
      } else {
        assertSame(url0, url1, "every client shares one URL");
      }
    }
  }
}
