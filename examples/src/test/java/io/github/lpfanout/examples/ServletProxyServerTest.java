package io.github.lpfanout.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.testing.SseRecorder;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The proxy's servlet transports, each serving the demo clock through the fanout. */
class ServletProxyServerTest {

  enum Transport {
    JETTY, TOMCAT;

    ProxyServer start(int port, Fanout fanout, boolean demo) throws IOException {
      return this == JETTY
          ? JettyProxyServer.start("127.0.0.1", port, fanout, demo)
          : TomcatProxyServer.start("127.0.0.1", port, fanout, demo);
    }
  }

  private final OkHttpClient client = new OkHttpClient();
  private final Fanout fanout = Fanout.newBuilder().authorizer(Authorizer.allowAll()).build();

  @AfterEach
  void stopClient() {
    fanout.close();
    client.dispatcher().executorService().shutdownNow();
    client.connectionPool().evictAll();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void demoClockArrivesThroughTheFanoutInBothUrlForms(Transport transport) throws Exception {
    try (ProxyServer server = transport.start(0, fanout, true)) {
      String clock = server.baseUrl() + "/demo/clock";
      String encodedWhole = URLEncoder.encode(clock, StandardCharsets.UTF_8);

      try (SseRecorder plain = SseRecorder.connect(client, server.baseUrl() + "/sse/" + clock);
          SseRecorder encoded =
              SseRecorder.connect(client, server.baseUrl() + "/sse/" + encodedWhole)) {
        SseRecorder.Event tick = plain.next();
        assertEquals(clock, tick.type());
        assertTrue(Instant.parse(tick.data()).isAfter(Instant.now().minusSeconds(10)), tick.data());
        assertEquals(clock, encoded.next().type());
      }
      fanout.close();
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void portInUseIsAnIoException(Transport transport) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      assertThrows(IOException.class, () -> transport.start(taken.getLocalPort(), fanout, false));
    }
  }
}
