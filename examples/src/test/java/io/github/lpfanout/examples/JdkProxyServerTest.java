package io.github.lpfanout.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.testing.RawHttp;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JdkProxyServerTest {

  /** The JDK server reads requests on its executor: a slow one must not hold the dispatcher. */
  @Test
  void aClientSendingItsRequestSlowlyDoesNotStallOthers() throws Exception {
    try (Fanout fanout = Fanout.newBuilder().authorizer(Authorizer.allowAll()).build();
        JdkProxyServer server = JdkProxyServer.start("127.0.0.1", 0, fanout, false)) {
      URI base = URI.create(server.baseUrl());
      try (Socket slow = new Socket(base.getHost(), base.getPort())) {
        OutputStream out = slow.getOutputStream();
        out.write("G".getBytes(StandardCharsets.US_ASCII));
        out.flush();

        RawHttp.Answer answer = RawHttp.get(server.baseUrl(), "/nope/http://127.0.0.1/");
        assertEquals(404, answer.status());
      }
    }
  }
}
