package io.github.lpfanout.bench;

import io.github.lpfanout.Admission;
import io.github.lpfanout.Authorizer;
import io.github.lpfanout.ClientStream;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.PollerRegistry;
import io.github.lpfanout.StreamRequest;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The heap the core keeps for each idle client, without any transport: {@code clients} streams
 * opened through {@link Fanout#open} on one URL, measured after full collections. A transport's
 * figure in the idle table is this plus the server's own connection state.
 */
final class CoreFootprint {

  private CoreFootprint() {}

  static void run(int clients, PrintStream out) throws Exception {
    PollerRegistry registry = PollerRegistry.newBuilder()
        .initialBackoff(Duration.ofMinutes(1))
        .maxBackoff(Duration.ofMinutes(1))
        .build();
    try (Fanout fanout = Fanout.newBuilder()
        .authorizer(Authorizer.allowAll())
        .registry(registry)
        // The clients measured, and the one opened first so that the URL's topic exists.
        .maxClients(clients + 1)
        .build()) {
      // Nothing listens on port 9 of loopback: the poller fails once and waits a minute.
      StreamRequest request = StreamRequest.of("/sse/http://127.0.0.1:9/idle",
          Map.of("Cookie", List.of("session=0123456789abcdef")), "127.0.0.1");
      fanout.open(request).get();

      long before = usedAfterCollection();
      List<ClientStream> streams = new ArrayList<>(clients);
      for (int i = 0; i < clients; i++) {
        streams.add(((Admission.Admitted) fanout.open(request).get()).stream());
      }
      long after = usedAfterCollection();

      out.printf("core: %,d idle sse clients on one URL retain %s of heap, %s per client%n",
          streams.size(), Report.bytes(after - before),
          Report.bytes((double) (after - before) / clients));
    }
  }

  private static long usedAfterCollection() throws InterruptedException {
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(100);
      used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return used;
  }
}
