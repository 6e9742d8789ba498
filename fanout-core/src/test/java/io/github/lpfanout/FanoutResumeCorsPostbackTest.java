package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What {@link Fanout} adds on top of the registry for resuming, CORS and postbacks, seen from a
 * transport: what it queues first, which headers it hands out, and how it routes and answers.
 * Every URL is push-fed, so nothing is polled.
 */
class FanoutResumeCorsPostbackTest {
  private static final String PUSHED = "http://push.test/";
  private static final String SECRET = "a-secret-of-at-least-16";

  private static final Duration QUIET = Duration.ofMillis(300);

  private PollerRegistry registry;
  private Fanout fanout;
  private Duration retry;

  @AfterEach
  void stop() {
    if (fanout != null) {
      fanout.close();
    }
  }

  @Test
  void streamStartsWithTheRetryThenTheLatestMessageOfEachUrl() throws Exception {
    retry = Duration.ofSeconds(2);
    fanout = fanout(builder -> builder.retry(retry));
    MessageId latest = publish("a", "current state");

    ClientStream stream = open("/sse/" + PUSHED + "a", Map.of());

    assertEquals("id: " + latest + "\nevent: " + PUSHED + "a\ndata: current state\n\n",
        text(take(stream)));
    assertNothingWithin(stream, QUIET);
  }

  @Test
  void latestOnJoinTurnedOffSendsOnlyWhatArrivesAfter() throws Exception {
    fanout = fanout(builder -> builder.latestOnJoin(false));
    publish("a", "before");

    ClientStream stream = open("/bin/" + PUSHED + "a", Map.of());
    assertNothingWithin(stream, QUIET);
    publish("a", "after");

    assertArrayEquals(FrameEncoder.binary().encode(PUSHED + "a",
        new Message(PUSHED + "a", bytes("after"), null)).toByteArray(), take(stream));
  }

  @Test
  void lastEventIdHeaderResumesAfterThatMessage() throws Exception {
    fanout = fanout(builder -> builder);
    MessageId seen = publish("a", "seen");
    publish("a", "missed");

    ClientStream stream =
        open("/sse/" + PUSHED + "a", Map.of("Last-Event-ID", List.of(seen.toString())));

    assertTrue(text(take(stream)).endsWith("data: missed\n\n"));
    assertNothingWithin(stream, QUIET);
  }

  @Test
  void corsHeadersComeWithTheStreamAndAreAddedToEveryRefusal() throws Exception {
    fanout = fanout(builder -> builder
        .cors(CorsPolicy.newBuilder().allowOrigin("https://app.example").build())
        .authorizer(request -> CompletableFuture.completedFuture(
            request.urls().get(0).endsWith("/denied")
                ? AuthDecision.deny(
                    new Refusal(403, Map.of("Vary", List.of("Cookie")), new byte[0]))
                : AuthDecision.allow())));
    Map<String, List<String>> origin = Map.of("Origin", List.of("https://app.example"));

    ClientStream stream = open("/sse/" + PUSHED + "a", origin);
    Refusal denied = refused(fanout.open(request("/sse/" + PUSHED + "denied", origin)));
    Refusal bad = refused(fanout.open(request("/xml/" + PUSHED + "a", origin)));

    assertEquals("https://app.example",
        stream.responseHeaders().get("Access-Control-Allow-Origin"));
    assertEquals("no-cache", stream.responseHeaders().get("Cache-Control"));
    assertEquals(List.of("Cookie, Origin"), denied.headers().get("Vary"));
    assertEquals(List.of("https://app.example"),
        denied.headers().get("Access-Control-Allow-Origin"));
    assertEquals(404, bad.status());
    assertEquals(List.of("Origin"), bad.headers().get("Vary"));
  }

  @Test
  void withoutCorsNoHeaderIsAddedAndPreflightsAre405() throws Exception {
    fanout = fanout(builder -> builder);
    Map<String, List<String>> origin = Map.of("Origin", List.of("https://app.example"),
        "Access-Control-Request-Method", List.of("GET"));

    ClientStream stream = open("/sse/" + PUSHED + "a", origin);

    assertEquals(FrameEncoder.sse().responseHeaders(), stream.responseHeaders());
    Refusal preflight = fanout.preflight(request("/sse/" + PUSHED + "a", origin));
    assertEquals(405, preflight.status());
    assertEquals(List.of("GET"), preflight.headers().get("Allow"));
  }

  @Test
  void postbackTargetIsItsPathSegmentAloneAndClosedWithoutASecret() {
    fanout = fanout(builder -> builder);
    assertTrue(fanout.isPostback("/publish?url=x"), "answered 404 while closed");
    assertEquals(404, fanout.postback("POST", request("/publish?url=" + PUSHED + "a",
        Map.of("Authorization", List.of("Bearer " + SECRET))), new byte[0]).status());
    assertEquals(0, fanout.maxPostbackBytes());
    assertEquals(0, registry.historyCount());
    fanout.close();

    fanout = fanout(builder -> builder.postbacks(Postbacks.newBuilder().secret(SECRET).build()));
    assertTrue(fanout.isPostback("/publish?url=x"));
    assertTrue(fanout.isPostback("/publish/http://a.example/x"));
    assertTrue(fanout.isPostback("/publish"));
    assertFalse(fanout.isPostback("/publisher?url=x"));
    assertFalse(fanout.isPostback("/sse/http://a.example/publish"));
    assertEquals(1024 * 1024, fanout.maxPostbackBytes());
  }

  @Test
  void postbackPathMayNotBeAStreamFormat() {
    Fanout.Builder builder = Fanout.newBuilder()
        .authorizer(Authorizer.allowAll())
        .postbacks(Postbacks.newBuilder().secret(SECRET).path("sse").build());

    IllegalStateException e = assertThrows(IllegalStateException.class, builder::build);
    assertTrue(e.getMessage().contains("postbacks path"), e.getMessage());
  }

  @Test
  void postbackIsAnsweredInTheOrderMethodUrlSizeProof() throws Exception {
    fanout = fanout(builder -> builder.postbacks(
        Postbacks.newBuilder().secret(SECRET).maxBodyBytes(8).build()));
    Map<String, List<String>> bearer = Map.of("Authorization", List.of("Bearer " + SECRET));
    String target = "/publish?url=" + PUSHED + "a";

    assertEquals(405, fanout.postback("GET", request(target, bearer), new byte[0]).status());
    assertEquals(400, fanout.postback("POST", request("/publish?url=ftp://x", bearer),
        new byte[0]).status());
    assertEquals(400, fanout.postback("POST", request("/publish?url=" + PUSHED + "a&url="
        + PUSHED + "b", bearer), new byte[0]).status());
    assertEquals(413, fanout.postback("POST", request(target, Map.of()), new byte[9]).status());
    Refusal unproven = fanout.postback("POST", request(target, Map.of()), bytes("x"));
    assertEquals(401, unproven.status());
    assertEquals(List.of("Bearer realm=\"fanout postbacks\""),
        unproven.headers().get("WWW-Authenticate"));
    assertEquals(0, registry.historyCount(), "nothing was published");

    Refusal accepted = fanout.postback("POST", request(target, bearer), bytes("12345678"));
    assertEquals(202, accepted.status());
    assertEquals(registry.run() + "-1\n", accepted.bodyText());
    assertEquals(1, registry.historyCount());
  }

  private interface Options {
    Fanout.Builder apply(Fanout.Builder builder);
  }

  private Fanout fanout(Options options) {
    registry = PollerRegistry.newBuilder().pushFedPrefix(PUSHED).build();
    return options.apply(Fanout.newBuilder()
        .registry(registry)
        .authorizer(Authorizer.allowAll())
        .shutdownGrace(Duration.ZERO))
        .build();
  }

  private MessageId publish(String path, String body) {
    return registry.publish(UpstreamUrl.of(PUSHED + path), bytes(body), null);
  }

  /**
   * Opens a stream and takes its first frame, checking it: the {@code retry:} opening when one is
   * configured, else a heartbeat.
   */
  private ClientStream open(String target, Map<String, List<String>> headers) throws Exception {
    Admission admission = fanout.open(request(target, headers)).get(5, TimeUnit.SECONDS);
    ClientStream stream = assertInstanceOf(Admission.Admitted.class, admission).stream();
    byte[] opening = stream.encoder().opening(retry);
    byte[] expected = opening.length > 0 ? opening : stream.encoder().heartbeat();
    assertArrayEquals(expected, take(stream), "the stream's first frame");
    return stream;
  }

  private static Refusal refused(CompletableFuture<Admission> admission) throws Exception {
    return assertInstanceOf(Admission.Refused.class, admission.get(5, TimeUnit.SECONDS))
        .refusal();
  }

  private static StreamRequest request(String target, Map<String, List<String>> headers) {
    return StreamRequest.of(target, new LinkedHashMap<>(headers), "127.0.0.1");
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** The next frame, waiting for it with a bound. */
  private static byte[] take(ClientStream stream) {
    Await.until("a frame for " + stream, () -> stream.pendingBytes() > 0);
    return stream.poll().toByteArray();
  }

  /** Fails if a frame arrives within {@code window}; takes nothing. */
  private static void assertNothingWithin(ClientStream stream, Duration window)
      throws InterruptedException {
    CountDownLatch arrived = new CountDownLatch(1);
    stream.onAvailable(arrived::countDown);
    assertNull(stream.poll(), "a frame was queued");
    assertFalse(arrived.await(window.toMillis(), TimeUnit.MILLISECONDS), "a frame arrived");
  }

  private static String text(byte[] frame) {
    return frame == null ? null : new String(frame, StandardCharsets.UTF_8);
  }
}
