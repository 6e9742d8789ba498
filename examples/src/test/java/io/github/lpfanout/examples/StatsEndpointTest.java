package io.github.lpfanout.examples;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import org.junit.jupiter.api.Test;

class StatsEndpointTest {

  @Test
  void loopbackClientsReadTheStatsAndOthersNeedTheToken() {
    try (Fanout fanout = Fanout.newBuilder().authorizer(Authorizer.allowAll()).build()) {
      StatsEndpoint open = new StatsEndpoint(fanout, null);
      StatsEndpoint guarded = new StatsEndpoint(fanout, "sixteen-chars-token");

      assertTrue(open.admits("127.0.0.1", null));
      assertTrue(open.admits("::1", null));
      assertFalse(open.admits("192.0.2.7", "Bearer anything"));
      assertTrue(guarded.admits("192.0.2.7", "Bearer sixteen-chars-token"));
      assertFalse(guarded.admits("192.0.2.7", "Bearer sixteen-chars-toke"));
      assertFalse(guarded.admits("192.0.2.7", null));
    }
  }
}
