package io.github.lpfanout.jdkhttp;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.testing.Await;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HandlerCloseTest {
  private final ServerSocket silentUpstream = silent();
  private final Fanout fanout = Fanout.newBuilder().authorizer(Authorizer.allowAll()).build();
  private final FanoutHttpHandler handler = new FanoutHttpHandler(fanout);
  private HttpServer server;

  @AfterEach
  void stop() throws Exception {
    fanout.close();
    server.stop(0);
    silentUpstream.close();
  }

  @Test
  void closingTheHandlerEndsTheStreamsItWrites() throws Exception {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", handler);
    server.start();
    String url = "http://127.0.0.1:" + silentUpstream.getLocalPort() + "/never";

    try (Socket client = new Socket(InetAddress.getLoopbackAddress(),
        server.getAddress().getPort())) {
      client.setSoTimeout(10_000);
      client.getOutputStream().write(("GET /sse/" + url + " HTTP/1.1\r\nHost: x\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      InputStream in = client.getInputStream();
      String head = readUntil(in, "\r\n\r\n");
      assertTrue(head.startsWith("HTTP/1.1 200"), head);

      handler.close();

      // The last chunk, or the connection closed if the close broke off a write in progress.
      String rest = readUntil(in, "0\r\n\r\n");
      assertTrue(rest.isEmpty() || rest.endsWith("0\r\n\r\n"), "the stream went on: " + rest);
      Await.until("the stream ended", () -> fanout.clientCount() == 0);
    }
  }

  /** Reads until what was read ends with {@code end}, the server closes, or ten seconds pass. */
  private static String readUntil(InputStream in, String end) throws Exception {
    ByteArrayOutputStream read = new ByteArrayOutputStream();
    try {
      for (int b = in.read(); b >= 0; b = in.read()) {
        read.write(b);
        if (read.toString(StandardCharsets.US_ASCII).endsWith(end)) {
          break;
        }
      }
    } catch (SocketTimeoutException e) {
      // Whatever arrived is the answer; the assertions say what was missing.
    }
    return read.toString(StandardCharsets.US_ASCII);
  }

  /** An upstream that takes connections into its backlog and never answers. */
  private static ServerSocket silent() {
    try {
      return new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
