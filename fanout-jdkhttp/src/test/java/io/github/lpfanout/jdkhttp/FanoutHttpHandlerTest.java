package io.github.lpfanout.jdkhttp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.PollerRegistry;
import io.github.lpfanout.UpstreamUrl;
import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.RawHttp;
import io.github.lpfanout.testing.ScriptedUpstream;
import io.github.lpfanout.testing.SseRecorder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.time.Duration;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the conformance suite does not cover: other mount points, HTTPS, methods, and the writer
 * thread of a dropped client.
 */
class FanoutHttpHandlerTest {
  private ScriptedUpstream upstream;
  private Fanout fanout;
  private FanoutHttpHandler handler;
  private HttpServer server;
  private OkHttpClient client =
      new OkHttpClient.Builder().readTimeout(Duration.ofSeconds(30)).build();

  @BeforeEach
  void startUpstream() throws Exception {
    upstream = new ScriptedUpstream();
    fanout = Fanout.newBuilder().authorizer(Authorizer.allowAll()).build();
    handler = new FanoutHttpHandler(fanout);
  }

  @AfterEach
  void stop() {
    fanout.close();
    handler.close();
    if (server != null) {
      server.stop(0);
    }
    upstream.close();
    client.dispatcher().executorService().shutdownNow();
    client.connectionPool().evictAll();
  }

  @Test
  void writeBlockedOnADroppedClientLetsGoOfItsWriterThread() throws Exception {
    // The handler's own pool of named platform threads; from Java 21 its writers are virtual.
    assumeTrue(Runtime.version().feature() < 21, "writer threads are virtual from Java 21");
    fanout.close();
    PollerRegistry registry =
        PollerRegistry.newBuilder().pushFedPrefix("http://push.test/").build();
    fanout = Fanout.newBuilder()
        .registry(registry)
        .authorizer(Authorizer.allowAll())
        .maxPendingBytes(256 * 1024)
        .build();
    handler.close();
    handler = new FanoutHttpHandler(fanout);
    server = HttpServer.create(loopback(), 0);
    server.createContext("/", handler);
    server.start();
    UpstreamUrl big = UpstreamUrl.of("http://push.test/big");
    byte[] body = new byte[64 * 1024];

    try (Socket stalled = RawHttp.openAndStall("http://127.0.0.1:" + server.getAddress().getPort(),
        "/bin/" + big.spelling(), 4096)) {
      Await.until("the client subscribed", () -> registry.subscriberCount(big) == 1);
      Await.until("a writer thread blocked on the client that reads nothing", () -> {
        registry.publish(big, body, "application/octet-stream");
        return writersBlockedOnASocket() > 0;
      });
      Await.until("the client dropped for its pending bytes", () -> {
        registry.publish(big, body, "application/octet-stream");
        return fanout.clientCount() == 0;
      });

      Await.until("no writer thread left blocked on its socket",
          () -> writersBlockedOnASocket() == 0);
    }
  }

  /** How many of the handler's writer threads are in a socket write now. */
  private static long writersBlockedOnASocket() {
    return Thread.getAllStackTraces().entrySet().stream()
        .filter(thread -> thread.getKey().getName().startsWith("fanout-jdkhttp-"))
        .filter(thread -> Arrays.stream(thread.getValue()).anyMatch(frame ->
            frame.getClassName().startsWith("sun.nio.ch.")
                && frame.getMethodName().startsWith("write")))
        .count();
  }

  private static InetSocketAddress loopback() throws Exception {
    return new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0);
  }

  @Test
  void servesStreamsWhenMountedAtTheRootContext() throws Exception {
    server = HttpServer.create(loopback(), 0);
    server.createContext("/", handler);
    server.start();
    String url = upstream.url("/root");

    try (SseRecorder events = SseRecorder.connect(client,
        "http://127.0.0.1:" + server.getAddress().getPort() + "/sse/" + url)) {
      events.awaitOpen();
      upstream.answer("/root", "at the root");
      assertEquals(new SseRecorder.Event(url, "at the root", null), events.next());
    }
  }

  @Test
  void servesStreamsOverHttps() throws Exception {
    HeldCertificate certificate = new HeldCertificate.Builder()
        .addSubjectAlternativeName("127.0.0.1")
        .build();
    HandshakeCertificates serverCertificates =
        new HandshakeCertificates.Builder().heldCertificate(certificate).build();
    HandshakeCertificates clientCertificates = new HandshakeCertificates.Builder()
        .addTrustedCertificate(certificate.certificate())
        .build();
    HttpsServer https = HttpsServer.create(loopback(), 0);
    https.setHttpsConfigurator(new HttpsConfigurator(serverCertificates.sslContext()));
    https.createContext("/fanout", handler);
    https.start();
    server = https;
    client = client.newBuilder()
        .sslSocketFactory(clientCertificates.sslSocketFactory(), clientCertificates.trustManager())
        .build();
    String url = upstream.url("/secure");

    try (SseRecorder events = SseRecorder.connect(client,
        "https://127.0.0.1:" + https.getAddress().getPort() + "/fanout/sse/" + url)) {
      assertEquals(200, events.awaitOpen().code());
      upstream.answer("/secure", "over tls");
      assertEquals(new SseRecorder.Event(url, "over tls", null), events.next());
    }
  }

  @Test
  void methodsOtherThanGetAreRefusedWith405() throws Exception {
    server = HttpServer.create(loopback(), 0);
    server.createContext("/", handler);
    server.start();

    Request post = new Request.Builder()
        .url("http://127.0.0.1:" + server.getAddress().getPort() + "/sse/" + upstream.url("/a"))
        .post(okhttp3.RequestBody.create(new byte[0]))
        .build();
    try (Response response = client.newCall(post).execute()) {
      assertEquals(405, response.code());
      assertEquals("GET", response.header("Allow"));
    }
    assertEquals(0, fanout.registry().pollerCount());
  }
}
