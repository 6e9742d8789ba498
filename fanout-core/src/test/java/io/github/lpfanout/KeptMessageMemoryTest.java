package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Await;
import java.lang.management.ManagementFactory;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The heap that kept messages hold, against what {@link History} counts for them.
 *
 * <p>A kept message caches frame heads, and would keep them long after the clients that asked for
 * them are gone. A spelling may be as long as the target allows (a fragment is part of the
 * spelling and not of the canonical URL), and a client that resumes from an old id has a head
 * encoded for every kept message of its URL. Were every head cached, one connection after
 * another, each resuming under a new spelling, would make the registry hold about {@code
 * maxTargetLength} times the kept messages per connection while History counts a few bytes of
 * body: 154 MiB in this test, and an OutOfMemoryError in a proxy with {@code -Xmx256m} after
 * about 300 such connections.
 */
class KeptMessageMemoryTest {
  private static final String PUSHED = "http://push.test/";
  private static final String URL = PUSHED + "feed";

  private PollerRegistry registry;
  private Fanout fanout;

  @AfterEach
  void stop() {
    if (fanout != null) {
      fanout.close();
    }
  }

  @Test
  void clientsThatResumeUnderNewSpellingsLeaveNoHeapBehind() throws Exception {
    registry = PollerRegistry.newBuilder().pushFedPrefix(PUSHED).build();
    fanout = Fanout.newBuilder()
        .registry(registry)
        .authorizer(Authorizer.allowAll())
        .shutdownGrace(Duration.ZERO)
        .build();
    // 100 kept messages of 10 bytes each: History counts 1,000 bytes of body for the URL.
    MessageId first = null;
    for (int i = 0; i < 100; i++) {
      MessageId id = registry.publish(
          UpstreamUrl.of(URL), String.format("body %05d", i).getBytes(StandardCharsets.UTF_8),
          "text/plain");
      first = first == null ? id : first;
    }
    long before = usedHeapAfterGc();

    int clients = 200;
    String padding = "x".repeat(7_900);
    for (int i = 0; i < clients; i++) {
      // Each client names the same URL under a spelling of its own, and resumes from the first
      // message: it is sent the 99 kept messages after it, then leaves.
      String spelling = URL + "#" + i + padding;
      String target = "/sse?url=" + URLEncoder.encode(spelling, StandardCharsets.UTF_8);
      Admission admission = fanout.open(StreamRequest.of(target,
              Map.of("Last-Event-ID", List.of(first.toString())), "127.0.0.1"))
          .get(5, TimeUnit.SECONDS);
      ClientStream stream = assertInstanceOf(Admission.Admitted.class, admission).stream();
      int frames = 0;
      while (frames < 100) {
        Await.until("the replay", () -> stream.pendingBytes() > 0);
        while (stream.poll() != null) {
          frames++;
        }
      }
      assertEquals(100, frames, "the opening and the 99 messages after the client's id");
      stream.close();
    }
    assertEquals(0, fanout.clientCount());
    long after = usedHeapAfterGc();

    long grown = after - before;
    System.out.printf("KeptMessageMemoryTest: %d clients gone, 100 kept messages of 10 bytes: "
        + "heap after GC grew by %.1f MiB%n", clients, grown / 1048576.0);
    assertTrue(grown < 16L * 1024 * 1024,
        "the kept messages of one URL, 1,000 bytes of body, hold " + grown + " more bytes of heap"
            + " after " + clients + " clients that are gone");
  }

  /** Heap in use after a full collection, as near as the JVM tells it. */
  private static long usedHeapAfterGc() {
    System.gc();
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
