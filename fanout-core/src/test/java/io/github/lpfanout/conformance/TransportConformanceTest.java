package io.github.lpfanout.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.AuthDecision;
import io.github.lpfanout.Authorizer;
import io.github.lpfanout.CorsPolicy;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.FanoutStats;
import io.github.lpfanout.History;
import io.github.lpfanout.MessageId;
import io.github.lpfanout.PollerRegistry;
import io.github.lpfanout.Postbacks;
import io.github.lpfanout.UpstreamUrl;
import io.github.lpfanout.UrlPolicy;
import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.BinRecorder;
import io.github.lpfanout.testing.FaultReport;
import io.github.lpfanout.testing.RawHttp;
import io.github.lpfanout.testing.ScriptedUpstream;
import io.github.lpfanout.testing.Signatures;
import io.github.lpfanout.testing.SseRecorder;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okhttp3.Dispatcher;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.Buffer;
import okio.BufferedSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What every transport must do, written once and run against each of them. A transport's test
 * extends this class and says how to serve a {@link Fanout} under a base URL; every test here then
 * talks to that server over real sockets, with a real long-polling upstream on loopback and
 * OkHttp's EventSource as the SSE parser.
 */
public abstract class TransportConformanceTest {
  private static final String APP = "https://app.example";
  private static final String SECRET = "the-postback-secret-of-the-suite";
  private static final Duration QUIET = Duration.ofMillis(300);


  /** A running server that serves a fanout under {@link #baseUrl()}. */
  public interface Mount extends AutoCloseable {
    /** The URL that {@code /sse/...} and {@code /bin/...} are relative to, with no final slash. */
    String baseUrl();

    @Override
    void close() throws Exception;
  }

  /** Starts a server of the transport under test that serves {@code fanout}. */
  protected abstract Mount mount(Fanout fanout) throws Exception;

  protected ScriptedUpstream upstream;
  protected OkHttpClient client;
  protected Fanout fanout;
  private Mount mount;
  private final List<AutoCloseable> cleanup = new ArrayList<>();

  @BeforeEach
  void startUpstreamAndClient() throws IOException {
    upstream = new ScriptedUpstream();
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(1000);
    dispatcher.setMaxRequestsPerHost(1000);
    client = new OkHttpClient.Builder()
        .dispatcher(dispatcher)
        .readTimeout(Duration.ofSeconds(30))
        .build();
  }

  @AfterEach
  void stopEverything() throws Exception {
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      cleanup.get(i).close();
    }
    upstream.close();
    client.dispatcher().cancelAll();
    client.dispatcher().executorService().shutdownNow();
    client.connectionPool().evictAll();
  }

  /** A registry that polls again at once and backs off briefly, so that tests run fast. */
  protected PollerRegistry.Builder registryBuilder() {
    return PollerRegistry.newBuilder()
        .minPollGap(Duration.ofMillis(5))
        .initialBackoff(Duration.ofMillis(20))
        .maxBackoff(Duration.ofMillis(200));
  }

  /** A fanout with the test registry and a short heartbeat, which finds departed clients fast. */
  protected Fanout.Builder fanoutBuilder(Authorizer authorizer) {
    return Fanout.newBuilder()
        .registry(registryBuilder().build())
        .authorizer(authorizer)
        .heartbeatInterval(Duration.ofMillis(200));
  }

  /** Serves {@code builder}'s fanout and returns the base URL. */
  protected String serve(Fanout.Builder builder) throws Exception {
    fanout = builder.build();
    cleanup.add(fanout);
    mount = mount(fanout);
    cleanup.add(mount);
    return mount.baseUrl();
  }

  protected String serve(Authorizer authorizer) throws Exception {
    return serve(fanoutBuilder(authorizer));
  }

  private <T extends AutoCloseable> T closeLater(T closeable) {
    cleanup.add(closeable);
    return closeable;
  }

  private SseRecorder sse(String base, String... urls) {
    return closeLater(SseRecorder.connect(client, base + "/sse/" + String.join(",", urls)));
  }

  private BinRecorder bin(String base, String... urls) {
    return closeLater(BinRecorder.connect(client, base + "/bin/" + String.join(",", urls)));
  }

  private int subscribers(String url) {
    return fanout.registry().subscriberCount(UpstreamUrl.of(url));
  }

  private Response get(String url) throws IOException {
    return client.newCall(new Request.Builder().url(url).build()).execute();
  }

  // --- Formats -------------------------------------------------------------------------------

  @Test
  public void sseStreamDeliversEachResponseAsAnEventNamedByTheUrl() throws Exception {
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/a");
    SseRecorder client = sse(base, url);

    Response response = client.awaitOpen();
    assertEquals(200, response.code());
    // Compared as a media type: containers may render it without the space.
    MediaType type = MediaType.get(response.header("Content-Type"));
    assertEquals("text/event-stream", type.type() + "/" + type.subtype());
    assertEquals("utf-8", type.parameter("charset"));
    assertEquals("no-cache", response.header("Cache-Control"));
    assertEquals("no", response.header("X-Accel-Buffering"));

    upstream.answer("/a", "one");
    upstream.answer("/a", "two");
    assertEquals(new SseRecorder.Event(url, "one", null), client.next());
    assertEquals(new SseRecorder.Event(url, "two", null), client.next());
    assertEquals(0, client.pending());
  }

  @Test
  public void binStreamDeliversFramesOfUrlLengthAndBody() throws Exception {
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/a");
    BinRecorder client = bin(base, url);

    Response response = client.awaitOpen();
    assertEquals(200, response.code());
    assertEquals("application/octet-stream", response.header("Content-Type"));
    assertEquals("no-cache", response.header("Cache-Control"));
    assertEquals("no", response.header("X-Accel-Buffering"));

    upstream.answer("/a", "one");
    upstream.answer("/a", "two");
    assertEquals(new BinRecorder.Frame(url, bytes("one")), client.next());
    assertEquals(new BinRecorder.Frame(url, bytes("two")), client.next());
    assertEquals(0, client.pending());
  }

  @Test
  public void sseEventsCarryBodiesExactlyAsEventSourceReadsThem() throws Exception {
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/bodies");
    SseRecorder client = sse(base, url);
    client.awaitOpen();

    String[][] bodiesAndData = {
        {"crlf\r\nlines\r\n.", "crlf\nlines\n."},
        {"cr\ronly\r.", "cr\nonly\n."},
        {"lf\nonly", "lf\nonly"},
        {"", ""},
        {"trailing newline\n", "trailing newline\n"},
        {"héllo wörld ✓ 日本", "héllo wörld ✓ 日本"},
        {":not a comment\ndata: not a field\nevent: not an event", 
            ":not a comment\ndata: not a field\nevent: not an event"},
    };
    for (String[] bodyAndData : bodiesAndData) {
      upstream.answer("/bodies", bodyAndData[0]);
    }
    upstream.answer("/bodies", new MockResponse.Builder()
        .setHeader("Content-Type", "text/plain; charset=ISO-8859-1")
        .body(new Buffer().write("caf\u00e9 \u00bd".getBytes(StandardCharsets.ISO_8859_1)))
        .build());

    for (String[] bodyAndData : bodiesAndData) {
      assertEquals(new SseRecorder.Event(url, bodyAndData[1], null), client.next());
    }
    assertEquals(new SseRecorder.Event(url, "café ½", null), client.next());
    assertEquals(0, client.pending());
  }

  @Test
  public void binFramesCarryBodiesUntouched() throws Exception {
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/bytes");
    BinRecorder client = bin(base, url);
    client.awaitOpen();

    byte[] megabyte = new byte[1024 * 1024];
    for (int i = 0; i < megabyte.length; i++) {
      megabyte[i] = (byte) (i * 31 + 7);
    }
    List<byte[]> bodies = List.of(
        new byte[] {'a', '\n', 'b', '\n'},
        new byte[] {0, 0, (byte) 0xff, 0, (byte) 0xfe},
        new byte[0],
        megabyte);
    for (byte[] body : bodies) {
      upstream.answer("/bytes", new MockResponse.Builder().body(new Buffer().write(body)).build());
    }

    for (byte[] body : bodies) {
      BinRecorder.Frame frame = client.next();
      assertEquals(url, frame.url());
      assertArrayEquals(body, frame.body());
    }
    assertEquals(0, client.pending());
  }

  @Test
  public void oneConnectionCarriesSeveralUrlsInEitherFormat() throws Exception {
    String base = serve(Authorizer.allowAll());
    String a = upstream.url("/a");
    String b = upstream.url("/b");
    SseRecorder sse = sse(base, a, b);
    BinRecorder bin = bin(base, a, b);
    Await.until("both clients on both URLs", () -> subscribers(a) == 2 && subscribers(b) == 2);

    upstream.answer("/a", "from a");
    upstream.answer("/b", "from b");

    Set<SseRecorder.Event> events = Set.of(sse.next(), sse.next());
    assertEquals(Set.of(new SseRecorder.Event(a, "from a", null),
        new SseRecorder.Event(b, "from b", null)), events);
    Set<BinRecorder.Frame> frames = Set.of(bin.next(), bin.next());
    assertEquals(Set.of(new BinRecorder.Frame(a, bytes("from a")),
        new BinRecorder.Frame(b, bytes("from b"))), frames);
  }

  @Test
  public void eachClientsFramesCarryItsOwnSpellingOfASharedUrl() throws Exception {
    String base = serve(Authorizer.allowAll());
    String lower = upstream.url("/shared");
    String upper = lower.replace("http://", "HTTP://");
    SseRecorder first = sse(base, lower);
    SseRecorder second = sse(base, upper);
    Await.until("both clients subscribed", () -> subscribers(lower) == 2);
    assertEquals(1, fanout.registry().pollerCount());

    upstream.answer("/shared", "news");
    assertEquals(new SseRecorder.Event(lower, "news", null), first.next());
    assertEquals(new SseRecorder.Event(upper, "news", null), second.next());
    assertEquals(1, upstream.maxInFlight("/shared"));
  }

  @Test
  public void queryFormIsServedLikeThePathForm() throws Exception {
    String base = serve(Authorizer.allowAll());
    String a = upstream.url("/a?since=3");
    String b = upstream.url("/b");
    SseRecorder client = closeLater(SseRecorder.connect(this.client, base + "/sse?url="
        + URLEncoder.encode(a, StandardCharsets.UTF_8) + "&url="
        + URLEncoder.encode(b, StandardCharsets.UTF_8)));
    Await.until("subscribed to both", () -> subscribers(a) == 1 && subscribers(b) == 1);

    upstream.answer("/a", "from a");
    assertEquals(new SseRecorder.Event(a, "from a", null), client.next());
    RecordedRequest request = upstream.takeRequest(5000);
    while (!request.getUrl().encodedPath().equals("/a")) {
      request = upstream.takeRequest(5000);
    }
    assertEquals("since=3", request.getUrl().encodedQuery());
  }

  // --- Polling and fan-out -------------------------------------------------------------------

  @Test
  public void fiftyClientsShareOneUpstreamRequestAtATimeAndGetEveryResponseInOrder()
      throws Exception {
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/a");
    List<SseRecorder> clients = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      clients.add(sse(base, url));
    }
    Await.until("50 subscribers", () -> subscribers(url) == 50);

    for (int i = 1; i <= 10; i++) {
      upstream.answer("/a", "message " + i);
    }
    for (SseRecorder client : clients) {
      for (int i = 1; i <= 10; i++) {
        assertEquals(new SseRecorder.Event(url, "message " + i, null), client.next());
      }
    }
    assertEquals(1, upstream.maxInFlight("/a"));
    for (SseRecorder client : clients) {
      assertEquals(0, client.pending());
    }
  }

  @Test
  public void twentyUrlsOnOneHostAreAllPolledAtOnce() throws Exception {
    String base = serve(Authorizer.allowAll());
    String[] urls = new String[20];
    for (int i = 0; i < urls.length; i++) {
      urls[i] = upstream.url("/u" + i);
    }
    sse(base, urls);

    Await.until("20 requests held at once", () -> upstream.inFlight() == 20);
  }

  @Test
  public void lastClientLeavingStopsPollingItsUrl() throws Exception {
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/a");
    SseRecorder first = sse(base, url);
    BinRecorder second = bin(base, url);
    Await.until("two subscribers", () -> subscribers(url) == 2);
    upstream.answer("/a", "hello");
    first.next();
    second.next();

    first.close();
    Await.until("first client unsubscribed", () -> subscribers(url) == 1);
    assertEquals(1, fanout.registry().pollerCount());
    second.close();
    Await.until("the poller stopped", () -> fanout.registry().pollerCount() == 0);
    Await.until("both streams ended", () -> fanout.clientCount() == 0);

    drainRecordedRequests();
    assertNull(upstream.takeRequest(500), "no request after the last client left");
  }

  @Test
  public void failingUpstreamIsRetriedAndRecoversWithoutDeliveringTheFailures() throws Exception {
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/flaky");
    SseRecorder client = sse(base, url);
    client.awaitOpen();

    upstream.answer("/flaky", new MockResponse.Builder().code(500).body("broken").build());
    upstream.answer("/flaky", new MockResponse.Builder()
        .body("never seen")
        .onResponseStart(SocketEffect.ShutdownConnection.INSTANCE)
        .build());
    upstream.answer("/flaky", new MockResponse.Builder().code(404).body("gone").build());
    upstream.answer("/flaky", "recovered");

    assertEquals(new SseRecorder.Event(url, "recovered", null), client.next());
    assertTrue(upstream.requestCount("/flaky") >= 4);
    assertEquals(0, client.pending());
  }

  @Test
  public void stalledClientIsDroppedWithoutDelayingAHealthyOne() throws Exception {
    stalledClientsBesideAHealthyOne(1, "stalled client beside 1 healthy");
  }

  @Test
  public void twentyStalledClientsDelayNoHealthyOne() throws Exception {
    // Where writes block (the JDK transport), each stalled client holds a writer thread: the
    // healthy client's writes must not wait for one stall to be found after another.
    stalledClientsBesideAHealthyOne(20, "20 stalled clients beside 1 healthy");
  }

  /**
   * Clients that read nothing beside one that reads, at 25 messages of 64 KiB a second: the
   * bound gives the healthy client 16 of them of slack, 640 ms, while a stalled client fills its
   * own bound at the same pace. So a healthy client held up until the stalled ones are dropped
   * is dropped with them, whatever the rate; the rate only leaves room for a busy machine. Every
   * stalled client is dropped, without its connection being closed under it, and the healthy one
   * gets every message in order.
   */
  private void stalledClientsBesideAHealthyOne(int stalledCount, String fault) throws Exception {
    String base = serve(fanoutBuilder(Authorizer.allowAll())
        .registry(registryBuilder().minPollGap(Duration.ofMillis(40)).build())
        .maxPendingBytes(1024 * 1024));
    String url = upstream.url("/big");
    BinRecorder healthy = bin(base, url);
    List<Socket> stalled = new ArrayList<>();
    for (int i = 0; i < stalledCount; i++) {
      stalled.add(closeLater(RawHttp.openAndStall(base, rawPath(base) + "/bin/" + url, 4096)));
    }
    Await.until("all subscribed", () -> subscribers(url) == stalledCount + 1);

    int messages = 100;
    answerNumbered("/big", 0, messages, 64 * 1024);
    Delivery delivery = receiveNumbered(healthy, messages, null);
    FaultReport.record(fault(fault), stalledCount, delivery.count(), messages);
    assertEquals(messages, delivery.count(), "messages the healthy client got in order");

    Await.until("the stalled clients dropped", Duration.ofSeconds(20),
        () -> fanout.clientCount() == 1);
    assertEquals(1, subscribers(url));
    assertTrue(stalled.stream().noneMatch(Socket::isClosed));
  }

  @Test
  public void idleStreamsReceiveHeartbeats() throws Exception {
    String base = serve(Authorizer.allowAll());
    BinRecorder client = bin(base, upstream.url("/quiet"));
    client.awaitOpen();

    Await.until("a heartbeat", () -> client.heartbeats() >= 2);
    assertEquals(0, client.pending());
  }

  // --- Authorization -------------------------------------------------------------------------

  @Test
  public void authServerAnswering200AdmitsAndSeesTheListAndTheClientsCredentials()
      throws Exception {
    MockWebServer auth = closeLater(new MockWebServer());
    auth.enqueue(new MockResponse.Builder().code(200).build());
    auth.start();
    String base = serve(Authorizer.http(auth.url("/check").toString()));
    String a = upstream.url("/a");
    String b = upstream.url("/b?x=1,2");

    SseRecorder client = closeLater(SseRecorder.connect(this.client, new Request.Builder()
        .url(base + "/sse/" + a + "," + b)
        .header("Cookie", "session=s3cret")
        .header("Authorization", "Bearer t0ken")
        .header("X-Unrelated", "not forwarded")
        .build()));
    assertEquals(200, client.awaitOpen().code());

    RecordedRequest check = auth.takeRequest(5, TimeUnit.SECONDS);
    assertEquals("POST", check.getMethod());
    assertEquals(a + "," + b, check.getBody().utf8());
    assertEquals("text/plain; charset=utf-8", check.getHeaders().get("Content-Type"));
    assertEquals("session=s3cret", check.getHeaders().get("Cookie"));
    assertEquals("Bearer t0ken", check.getHeaders().get("Authorization"));
    assertNull(check.getHeaders().get("X-Unrelated"));
    assertTrue(check.getHeaders().get("X-Forwarded-For").contains("127.0.0.1"));

    upstream.answer("/b", "admitted");
    assertEquals(new SseRecorder.Event(b, "admitted", null), client.next());
  }

  @Test
  public void authServer401IsRelayedWithItsChallengeAndBody() throws Exception {
    MockWebServer auth = closeLater(new MockWebServer());
    auth.enqueue(new MockResponse.Builder()
        .code(401)
        .setHeader("WWW-Authenticate", "Bearer realm=\"fanout\"")
        .setHeader("Content-Type", "application/json")
        .setHeader("X-Internal", "not relayed")
        .body("{\"error\":\"log in first\"}")
        .build());
    auth.start();
    String base = serve(Authorizer.http(auth.url("/check").toString()));

    try (Response response = get(base + "/sse/" + upstream.url("/a"))) {
      assertEquals(401, response.code());
      assertEquals("Bearer realm=\"fanout\"", response.header("WWW-Authenticate"));
      assertEquals("application/json", response.header("Content-Type"));
      assertNull(response.header("X-Internal"));
      assertEquals("{\"error\":\"log in first\"}", response.body().string());
    }
    assertEquals(0, upstream.requestCount("/a"));
    assertEquals(0, fanout.registry().pollerCount());
  }

  @Test
  public void authServer403IsRelayed() throws Exception {
    MockWebServer auth = closeLater(new MockWebServer());
    auth.enqueue(new MockResponse.Builder().code(403).body("not yours").build());
    auth.start();
    String base = serve(Authorizer.http(auth.url("/check").toString()));

    try (Response response = get(base + "/bin/" + upstream.url("/a"))) {
      assertEquals(403, response.code());
      assertEquals("not yours", response.body().string());
    }
    assertEquals(0, upstream.requestCount("/a"));
  }

  @Test
  public void unreachableAuthServerGives503() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    String base = serve(Authorizer.http("http://127.0.0.1:" + closedPort + "/check"));

    try (Response response = get(base + "/sse/" + upstream.url("/a"))) {
      assertEquals(503, response.code());
      assertOneLine(response.body().string());
    }
    assertEquals(0, upstream.requestCount("/a"));
  }

  @Test
  public void decisionComesBeforeAnyPoll() throws Exception {
    CompletableFuture<AuthDecision> decision = new CompletableFuture<>();
    String base = serve(request -> decision);
    String url = upstream.url("/a");
    SseRecorder client = sse(base, url);

    upstream.answer("/a", "first");
    assertNull(upstream.takeRequest(300), "polled before the decision");
    assertEquals(0, fanout.registry().pollerCount());

    decision.complete(AuthDecision.allow());
    assertEquals(new SseRecorder.Event(url, "first", null), client.next());
  }

  // --- Bad requests --------------------------------------------------------------------------

  static Stream<Arguments> badTargets() {
    StringBuilder sixtyFive = new StringBuilder();
    for (int i = 0; i < 65; i++) {
      sixtyFive.append(i == 0 ? "" : ",").append("{up}/n").append(i);
    }
    return Stream.of(
        Arguments.of("/xml/{up}/a", 404),
        Arguments.of("/SSE/{up}/a", 404),
        Arguments.of("/", 404),
        Arguments.of("/sse", 400),
        Arguments.of("/sse/", 400),
        Arguments.of("/sse/,{up}/a", 400),
        Arguments.of("/sse/ftp://127.0.0.1/a", 400),
        Arguments.of("/sse/file:///etc/passwd", 400),
        Arguments.of("/sse/http://user:pw@127.0.0.1/a", 400),
        Arguments.of("/sse/{up}/a%0Ab", 400),
        Arguments.of("/sse/{up}/a%0d%0aevent:%20x", 400),
        Arguments.of("/sse/{up}/a%00", 400),
        Arguments.of("/sse/{up}/a%20b", 400),
        Arguments.of("/bin/http%3A%2F%2F127.0.0.1%2Fa%250A", 400),
        Arguments.of("/sse/http://", 400),
        Arguments.of("/sse/" + sixtyFive, 400),
        Arguments.of("/sse/{up}/a?" + "x".repeat(3000), 400),
        Arguments.of("/sse?other=1", 400));
  }

  @ParameterizedTest
  @MethodSource("badTargets")
  public void badRequestsAreRefusedWithAOneLineReasonBeforeAnythingIsAuthorized(
      String target, int status) throws Exception {
    AtomicInteger authorizations = new AtomicInteger();
    String base = serve(fanoutBuilder(request -> {
      authorizations.incrementAndGet();
      return CompletableFuture.completedFuture(AuthDecision.allow());
    }).maxTargetLength(2048));
    String up = "http://127.0.0.1:" + upstream.port();

    RawHttp.Answer answer = RawHttp.get(base, rawPath(base) + target.replace("{up}", up));
    assertEquals(status, answer.status(), answer.head());
    assertOneLine(answer.body());
    assertEquals(0, authorizations.get());
    assertEquals(0, fanout.registry().pollerCount());
  }

  // --- Observability and loops ---------------------------------------------------------------

  @Test
  public void statsCountClientsPollsDeliveriesAndErrors() throws Exception {
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/counted");
    SseRecorder client = sse(base, url);
    client.awaitOpen();

    upstream.answer("/counted", "one");
    upstream.answer("/counted", new MockResponse.Builder().code(500).build());
    upstream.answer("/counted", "two");
    assertEquals("one", client.next().data());
    assertEquals("two", client.next().data());
    Await.until("the next poll held", () -> upstream.inFlight("/counted") == 1);

    FanoutStats stats = fanout.stats();
    assertEquals(1, stats.clients());
    assertEquals(1, stats.subscriptions());
    assertEquals(1, stats.pollers());
    assertEquals(1, stats.requestsInFlight());
    assertEquals(2, stats.messagesDelivered());
    assertTrue(stats.bytesDelivered() > 2 * url.length(), stats.toString());
    assertEquals(0, stats.clientsDroppedSlow());
    assertEquals(java.util.Map.of("http_5xx", 1L), stats.upstreamErrors());
    assertTrue(stats.toJson().startsWith("{\"clients\":1,\"subscriptions\":1,"), stats.toJson());
    assertTrue(stats.toJson().endsWith("\"upstreamErrors\":{\"http_5xx\":1}}"), stats.toJson());
  }

  @Test
  public void aFanoutRefusesToPollItself() throws Exception {
    String base = serve(Authorizer.allowAll());
    String inner = base + "/sse/" + upstream.url("/deep");
    SseRecorder client = sse(base, inner);
    client.awaitOpen();

    Await.until("its own poll refused",
        () -> fanout.stats().upstreamErrors().containsKey("http_5xx"));
    assertEquals(1, fanout.registry().pollerCount(), "only the outer URL is polled");
    assertEquals(1, fanout.clientCount(), "the poll never became a client");
    assertEquals(0, upstream.requestCount("/deep"));
  }

  // --- Limits and policy ---------------------------------------------------------------------

  @Test
  public void urlsTheUrlPolicyRefusesGet403BeforeAuthorization() throws Exception {
    AtomicInteger authorizations = new AtomicInteger();
    UrlPolicy policy = UrlPolicy.newBuilder().allowPrefix(upstream.url("/allowed/")).build();
    String base = serve(fanoutBuilder(request -> {
      authorizations.incrementAndGet();
      return CompletableFuture.completedFuture(AuthDecision.allow());
    }).registry(registryBuilder().urlPolicy(policy).build()));

    try (Response response = get(base + "/sse/" + upstream.url("/other"))) {
      assertEquals(403, response.code());
      assertOneLine(response.body().string());
    }
    try (Response response = get(base + "/sse/http://169.254.169.254/latest/meta-data/")) {
      assertEquals(403, response.code());
    }
    assertEquals(0, authorizations.get());
    assertEquals(0, fanout.registry().pollerCount());

    SseRecorder allowed = sse(base, upstream.url("/allowed/feed"));
    upstream.answer("/allowed/feed", "fine");
    assertEquals("fine", allowed.next().data());
  }

  @Test
  public void clientsBeyondTheLimitGet503WhileAdmittedOnesKeepFlowing() throws Exception {
    String base = serve(fanoutBuilder(Authorizer.allowAll()).maxClients(2));
    String url = upstream.url("/a");
    SseRecorder first = sse(base, url);
    SseRecorder second = sse(base, url);
    Await.until("two clients", () -> subscribers(url) == 2);

    try (Response response = get(base + "/sse/" + url)) {
      assertEquals(503, response.code());
      assertOneLine(response.body().string());
    }
    upstream.answer("/a", "still flowing");
    assertEquals("still flowing", first.next().data());
    assertEquals("still flowing", second.next().data());

    first.close();
    Await.until("a place is free", () -> fanout.clientCount() == 1);
    SseRecorder third = sse(base, url);
    assertEquals(200, third.awaitOpen().code());
  }

  @Test
  public void urlsBeyondThePolledLimitGet503WhileKnownUrlsAreStillServed() throws Exception {
    String base = serve(fanoutBuilder(Authorizer.allowAll())
        .registry(registryBuilder().maxPolledUrls(2).build()));
    String a = upstream.url("/a");
    String b = upstream.url("/b");
    SseRecorder first = sse(base, a, b);
    Await.until("two URLs polled", () -> fanout.registry().pollerCount() == 2);

    try (Response response = get(base + "/sse/" + a + "," + upstream.url("/c"))) {
      assertEquals(503, response.code());
      assertOneLine(response.body().string());
    }
    assertEquals(1, subscribers(a), "a refused client holds nothing");
    assertEquals(0, upstream.requestCount("/c"));

    SseRecorder second = sse(base, a);
    Await.until("a known URL is still served", () -> subscribers(a) == 2);
    upstream.answer("/a", "shared");
    assertEquals("shared", first.next().data());
    assertEquals("shared", second.next().data());
  }

  // --- Client faults, churn and shutdown -----------------------------------------------------

  @Test
  public void hundredHealthyClientsKeepTheirPaceBesideAStalledOne() throws Exception {
    String base = serve(fanoutBuilder(Authorizer.allowAll()).maxPendingBytes(2 * 1024 * 1024));
    String url = upstream.url("/steady");
    List<BinRecorder> healthy = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      healthy.add(bin(base, url));
    }
    Socket stalled = closeLater(RawHttp.openAndStall(base, rawPath(base) + "/bin/" + url, 4096));
    Await.until("101 subscribers", () -> subscribers(url) == 101);

    // 6.4 MiB at 20 messages a second: more than the kernel's socket buffers (about 3 MiB here)
    // and the bound hold for the stalled client, and 1.6 s of slack for each healthy one.
    int messages = 100;
    long[] answeredAt = new long[messages];
    for (int i = 0; i < messages; i++) {
      byte[] body = new byte[64 * 1024];
      java.util.Arrays.fill(body, (byte) i);
      answeredAt[i] = System.nanoTime();
      upstream.answer("/steady", new MockResponse.Builder().body(new Buffer().write(body)).build());
      Await.until("message " + i + " taken", () -> upstream.unansweredScripts("/steady") == 0);
      Thread.sleep(50); // the steady rate of the upstream, not a wait for a result
    }

    int delivered = 0;
    long worstLagNanos = 0;
    for (BinRecorder client : healthy) {
      Delivery delivery = receiveNumbered(client, messages, answeredAt);
      delivered += delivery.count();
      worstLagNanos = Math.max(worstLagNanos, delivery.worstLagNanos());
    }
    FaultReport.record(fault("stalled client beside 100 healthy"), 1, delivered, 100 * messages);
    assertEquals(100 * messages, delivered, "messages the healthy clients got in order");
    Await.until("the stalled client dropped", Duration.ofSeconds(20),
        () -> fanout.clientCount() == 100);
    assertEquals(100, subscribers(url));
    assertFalse(stalled.isClosed());
    System.out.printf("%s: worst lag of 100 healthy clients beside a stalled one: %d ms%n",
        getClass().getSimpleName(), TimeUnit.NANOSECONDS.toMillis(worstLagNanos));
  }

  @Test
  public void stalledClientsHoldNoMoreHeapThanTheirBound() throws Exception {
    // Ten clients that read nothing, each bound to 1 MiB, beside a healthy one, while 24 MiB of
    // messages pass. Were their queues unbounded they would keep most of it; bounded, they cost
    // at most the frames within the bound (shared between them) until they are dropped.
    long bound = 1024 * 1024;
    String base = serve(fanoutBuilder(Authorizer.allowAll())
        .registry(registryBuilder().minPollGap(Duration.ofMillis(10)).build())
        .maxPendingBytes(bound));
    String url = upstream.url("/heap");
    BinRecorder healthy = bin(base, url);
    for (int i = 0; i < 10; i++) {
      closeLater(RawHttp.openAndStall(base, rawPath(base) + "/bin/" + url, 4096));
    }
    Await.until("11 subscribers", () -> subscribers(url) == 11);
    long before = usedHeapAfterGc();

    int messages = 384;
    long peak = before;
    int delivered = 0;
    for (int i = 0; i < messages; i++) {
      answerNumbered("/heap", i, 1, 64 * 1024);
      // Taken one by one, so that the healthy client's recorder holds no more than a frame.
      delivered += receiveNumberedFrom(healthy, i) ? 1 : 0;
      if (i % 48 == 47) {
        peak = Math.max(peak, usedHeapAfterGc());
      }
    }
    Await.until("the stalled clients dropped", Duration.ofSeconds(20),
        () -> fanout.clientCount() == 1);
    long after = usedHeapAfterGc();

    FaultReport.record(fault("10 stalled clients, 24 MiB sent"), 10, delivered, messages);
    System.out.printf("%s: heap after GC with 10 stalled clients bound to 1 MiB while 24 MiB "
            + "passed: %.1f MiB before, peak %+.1f MiB, %+.1f MiB once they were dropped%n",
        getClass().getSimpleName(), before / 1048576.0, (peak - before) / 1048576.0,
        (after - before) / 1048576.0);
    assertEquals(messages, delivered, "messages the healthy client got in order");
    assertTrue(peak - before < 8 * bound,
        "heap grew by " + (peak - before) + " bytes with stalled clients bound to " + bound);
    assertTrue(after - before < 4 * bound,
        "heap kept " + (after - before) + " bytes after the stalled clients were dropped");
  }

  @Test
  public void clientThatDisconnectsMidFrameIsUnsubscribed() throws Exception {
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/big");
    BinRecorder healthy = bin(base, url);
    Socket client = closeLater(RawHttp.openAndStall(base, rawPath(base) + "/bin/" + url, 65536));
    Await.until("subscribed", () -> subscribers(url) == 2);

    answerNumbered("/big", 0, 1, 512 * 1024);
    byte[] part = new byte[1000];
    int read = 0;
    while (read < part.length) {
      read += client.getInputStream().read(part, read, part.length - read);
    }
    client.close();
    answerNumbered("/big", 1, 5, 64 * 1024);

    Delivery delivery = receiveNumbered(healthy, 6, null);
    FaultReport.record(fault("client gone mid-frame"), 1, delivery.count(), 6);
    assertEquals(6, delivery.count());
    Await.until("unsubscribed", () -> subscribers(url) == 1 && fanout.clientCount() == 1);
  }

  @Test
  public void clientThatHalfClosesAndStopsReadingIsDroppedOnceItsBoundFills() throws Exception {
    String base = serve(fanoutBuilder(Authorizer.allowAll())
        .registry(registryBuilder().minPollGap(Duration.ofMillis(20)).build())
        .maxPendingBytes(1024 * 1024));
    String url = upstream.url("/half");
    BinRecorder healthy = bin(base, url);
    Socket client = closeLater(RawHttp.openAndStall(base, rawPath(base) + "/bin/" + url, 4096));
    Await.until("subscribed", () -> subscribers(url) == 2);
    client.shutdownOutput();

    int messages = 150;
    answerNumbered("/half", 0, messages, 64 * 1024);
    Delivery delivery = receiveNumbered(healthy, messages, null);
    FaultReport.record(fault("client half-closed, not reading"), 1, delivery.count(), messages);
    assertEquals(messages, delivery.count());

    Await.until("unsubscribed", Duration.ofSeconds(20), () -> subscribers(url) == 1);
    Await.until("the stream ended", () -> fanout.clientCount() == 1);
  }

  @Test
  public void tenThousandConnectsAndDisconnectsLeaveNothingBehind() throws Exception {
    String base = serve(Authorizer.allowAll());
    String[] urls = {upstream.url("/c0"), upstream.url("/c1"), upstream.url("/c2")};
    String path = rawPath(base);
    Set<Thread> threadsBefore = Thread.getAllStackTraces().keySet();
    long socketsBefore = openSockets();
    BinRecorder healthy = bin(base, urls[0]);
    Await.until("the healthy client subscribed", () -> subscribers(urls[0]) == 1);

    int cycles = 10_000;
    AtomicInteger admitted = new AtomicInteger();
    AtomicInteger next = new AtomicInteger();
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < 8; w++) {
      Thread worker = new Thread(() -> {
        for (int i = next.getAndIncrement(); i < cycles; i = next.getAndIncrement()) {
          String format = i % 2 == 0 ? "/sse/" : "/bin/";
          try (Socket socket = RawHttp.openAndStall(base, path + format + urls[i % 3], 8192)) {
            if (RawHttp.readStatus(socket) == 200) {
              admitted.incrementAndGet();
            }
          } catch (IOException e) {
            throw new AssertionError("cycle " + i, e);
          }
        }
      }, "churn-" + w);
      worker.start();
      workers.add(worker);
    }
    int messages = 20;
    for (int i = 0; i < messages; i++) {
      answerNumbered("/c0", i, 1, 1024);
      Thread.sleep(50); // messages spread over the churn, not a wait for a result
    }
    for (Thread worker : workers) {
      worker.join(TimeUnit.MINUTES.toMillis(2));
      assertFalse(worker.isAlive(), "churn finished");
    }

    Delivery delivery = receiveNumbered(healthy, messages, null);
    FaultReport.record(fault("10,000 connect/disconnect cycles"), cycles, delivery.count(),
        messages);
    assertEquals(messages, delivery.count());
    assertEquals(cycles, admitted.get());
    healthy.close();
    Await.until("every stream ended", Duration.ofSeconds(30), () -> fanout.clientCount() == 0);
    Await.until("every poller stopped", () -> fanout.registry().pollerCount() == 0);
    for (String url : urls) {
      assertEquals(0, subscribers(url));
    }
    Await.until("sockets back to where they were", Duration.ofSeconds(30),
        () -> openSockets() <= socketsBefore + 20);
    // Idle poll and writer threads may wait for reuse a while; what must not happen is growth
    // with the number of cycles.
    try {
      Await.until("the library's threads to settle", Duration.ofSeconds(15),
          () -> libraryThreadsStartedSince(threadsBefore).size() <= 8);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + ": " + libraryThreadsStartedSince(threadsBefore));
    }
  }

  /** Closes the mount the way an application shuts down: the fanout first, then the server. */
  @Test
  public void closingTheFanoutEndsEveryStreamCleanlyAndStopsItsThreads() throws Exception {
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/a");
    List<SseRecorder> clients = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      clients.add(sse(base, url));
    }
    Await.until("five subscribers", () -> subscribers(url) == 5);
    upstream.answer("/a", "before shutdown");
    for (SseRecorder client : clients) {
      assertEquals("before shutdown", client.next().data());
    }

    long started = System.nanoTime();
    cleanup.remove(mount);
    mount.close();
    for (SseRecorder client : clients) {
      Await.until("the stream ended cleanly", Duration.ofSeconds(5), client::isEnded);
    }
    assertEquals(0, fanout.registry().pollerCount());
    assertEquals(0, fanout.clientCount());
    assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5));
    try {
      Await.until("the library's threads stopped", Duration.ofSeconds(5),
          () -> libraryThreadsStartedSince(before).isEmpty());
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + ": " + libraryThreadsStartedSince(before));
    }
  }

  /**
   * Streams that are mid-way through large frames when the server shuts down end as valid HTTP,
   * cut off or with the last chunk after whole frames, never with a malformed chunked body. A
   * servlet writer that completed the response while a non-blocking write was still in progress
   * left Tomcat ending some streams with a chunk longer than its size line, or with bytes after
   * the last chunk.
   */
  @Test
  public void shuttingDownMidFrameLeavesEveryStreamWellFormed() throws Exception {
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/large");
    int clients = 12;
    List<java.io.ByteArrayOutputStream> received = new ArrayList<>();
    List<Thread> readers = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      Socket socket = closeLater(RawHttp.openAndStall(base, rawPath(base) + "/bin/" + url, 65536));
      socket.setSoTimeout(20_000);
      java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
      received.add(bytes);
      int pause = i % 3;
      Thread reader = new Thread(() -> {
        byte[] buffer = new byte[16384];
        try (java.io.InputStream in = socket.getInputStream()) {
          for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
            bytes.write(buffer, 0, n);
            if (pause > 0) {
              Thread.sleep(pause); // readers of a few speeds, so that frames are mid-way
            }
          }
        } catch (IOException | InterruptedException e) {
          // Cut off: the check below reads what arrived.
        }
      }, "shutdown-reader-" + i);
      reader.start();
      readers.add(reader);
    }
    Await.until("all subscribed", () -> subscribers(url) == clients);

    answerNumbered("/large", 0, 3, 3 * 1024 * 1024);
    // Some clients may be dropped as too slow before they read much; those that read are mid-way.
    Await.until("frames on their way",
        () -> received.stream().mapToLong(bytes -> bytes.size()).sum() > 4L * 1024 * 1024);
    cleanup.remove(mount);
    mount.close();
    for (Thread reader : readers) {
      reader.join(30_000);
    }

    List<String> malformed = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      String problem = chunkedProblem(received.get(i).toByteArray());
      if (problem != null) {
        malformed.add("client " + i + ": " + problem);
      }
    }
    assertEquals(List.of(), malformed, "streams whose chunked body is malformed");
  }

  /**
   * What is wrong with the chunked body of a raw response, or null if it is well-formed: whole
   * chunks, then either the last chunk and nothing after it, or the end of what arrived.
   */
  private static String chunkedProblem(byte[] raw) {
    int at = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0);
    if (at < 0) {
      return "no response headers";
    }
    at += 4;
    while (at < raw.length) {
      int lineEnd = indexOf(raw, "\r\n".getBytes(StandardCharsets.ISO_8859_1), at);
      if (lineEnd < 0) {
        return raw.length - at > 16 ? "no chunk size line at " + at : null;
      }
      String line = new String(raw, at, lineEnd - at, StandardCharsets.ISO_8859_1);
      int size;
      try {
        size = Integer.parseInt(line, 16);
      } catch (NumberFormatException e) {
        return "bad chunk size line at " + at + ": "
            + line.substring(0, Math.min(20, line.length())).replaceAll("\\p{Cntrl}", "?");
      }
      at = lineEnd + 2;
      if (size == 0) {
        return raw.length > at + 2 ? (raw.length - at - 2) + " bytes after the last chunk" : null;
      }
      if (at + size + 2 > raw.length) {
        return null; // cut off mid-chunk: a client sees a broken connection, not wrong data
      }
      if (raw[at + size] != '\r' || raw[at + size + 1] != '\n') {
        return "chunk of " + size + " bytes at " + at + " is longer than its size line says";
      }
      at += size + 2;
    }
    return null;
  }

  private static int indexOf(byte[] data, byte[] pattern, int from) {
    outer:
    for (int i = from; i <= data.length - pattern.length; i++) {
      for (int j = 0; j < pattern.length; j++) {
        if (data[i + j] != pattern[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** Threads alive now, not alive in {@code before}, that the library names as its own. */
  private static List<String> libraryThreadsStartedSince(Set<Thread> before) {
    List<String> names = new ArrayList<>();
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      String name = thread.getName();
      if (!before.contains(thread) && thread.isAlive()
          && (name.startsWith("fanout-") || name.startsWith("OkHttp http"))) {
        names.add(name);
      }
    }
    return names;
  }

  private static long openSockets() {
    java.io.File[] descriptors = new java.io.File("/proc/self/fd").listFiles();
    if (descriptors == null) {
      return 0;
    }
    long sockets = 0;
    for (java.io.File descriptor : descriptors) {
      try {
        if (java.nio.file.Files.readSymbolicLink(descriptor.toPath()).toString()
            .startsWith("socket:")) {
          sockets++;
        }
      } catch (IOException vanished) {
        // Closed while we looked.
      }
    }
    return sockets;
  }

  // --- Message ids, resume and latest on join ------------------------------------------------

  @Test
  public void sseEventsCarryIdsThatNameTheRegistrysRunAndIncreaseAcrossUrls() throws Exception {
    String base = serve(Authorizer.allowAll());
    String a = upstream.url("/a");
    String b = upstream.url("/b");
    SseRecorder client = sse(base, a, b);
    Await.until("subscribed to both", () -> subscribers(a) == 1 && subscribers(b) == 1);

    upstream.answer("/a", "one");
    upstream.answer("/b", "two");
    upstream.answer("/a", "three");

    long previous = 0;
    for (int i = 0; i < 3; i++) {
      SseRecorder.Event event = client.nextWithId();
      MessageId id = MessageId.parse(event.id());
      assertNotNull(id, "event " + event + " has a message id");
      assertEquals(fanout.registry().run(), id.run());
      assertTrue(id.sequence() > previous, "ids increase: " + event.id());
      previous = id.sequence();
    }
  }

  @Test
  public void sseStreamStartsWithItsRetryOnceWhenOneIsConfigured() throws Exception {
    String base = serve(fanoutBuilder(Authorizer.allowAll()).retry(Duration.ofMillis(1500)));
    String url = upstream.url("/a");

    try (Response response = get(base + "/sse/" + url)) {
      BufferedSource stream = response.body().source();
      assertEquals("retry: 1500", stream.readUtf8LineStrict());
      assertEquals("", stream.readUtf8LineStrict());
      Await.until("subscribed", () -> subscribers(url) == 1);
      upstream.answer("/a", "one");
      upstream.answer("/a", "two");

      List<String> lines = linesThrough(stream, "data: two");
      assertTrue(lines.stream().noneMatch(line -> line.startsWith("retry:")), lines.toString());
    }
  }

  @Test
  public void sseStreamSendsNoRetryUnlessConfigured() throws Exception {
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/a");

    try (Response response = get(base + "/sse/" + url)) {
      Await.until("subscribed", () -> subscribers(url) == 1);
      upstream.answer("/a", "one");

      List<String> lines = linesThrough(response.body().source(), "data: one");
      assertTrue(lines.stream().noneMatch(line -> line.startsWith("retry:")), lines.toString());
    }
  }

  @Test
  public void reconnectWithLastEventIdGetsExactlyWhatItMissedInOrderThenLive() throws Exception {
    String base = serve(pushFedFanout(History.standard()));
    String a = upstream.url("/push/a");
    String b = upstream.url("/push/b");
    SseRecorder first = sse(base, a, b);
    Await.until("subscribed to both", () -> subscribers(a) == 1 && subscribers(b) == 1);
    publish(a, "a1");
    publish(b, "b1");
    publish(a, "a2");
    SseRecorder.Event seen = first.nextWithId();
    assertEquals("a1", seen.data());
    first.close();
    publish(b, "b2 while away");

    SseRecorder second = closeLater(SseRecorder.connect(client, new Request.Builder()
        .url(base + "/sse/" + a + "," + b)
        .header("Last-Event-ID", seen.id())
        .build()));
    assertEquals(new SseRecorder.Event(b, "b1", null), second.next());
    assertEquals(new SseRecorder.Event(a, "a2", null), second.next());
    assertEquals(new SseRecorder.Event(b, "b2 while away", null), second.next());
    publish(a, "a3 live");

    assertEquals(new SseRecorder.Event(a, "a3 live", null), second.next());
    assertNull(second.poll(QUIET), "nothing repeated");
  }

  @Test
  public void lastEventIdParameterOfTheQueryFormResumesLikeTheHeader() throws Exception {
    String base = serve(pushFedFanout(History.standard()));
    String a = upstream.url("/push/a");
    MessageId seen = publish(a, "seen");
    publish(a, "missed");

    SseRecorder client = closeLater(SseRecorder.connect(this.client, base + "/sse?url="
        + URLEncoder.encode(a, StandardCharsets.UTF_8) + "&lastEventId=" + seen));

    assertEquals(new SseRecorder.Event(a, "missed", null), client.next());
    assertNull(client.poll(QUIET));
  }

  @Test
  public void lastEventIdInThePathFormsQueryStringBelongsToTheUpstreamUrl() throws Exception {
    String base = serve(pushFedFanout(History.standard()).latestOnJoin(false));
    MessageId first = publish(upstream.url("/push/x"), "x");
    String url = upstream.url("/push/q?lastEventId=" + first);
    publish(url, "would be replayed if the query were read as a last event id");

    SseRecorder client = sse(base, url);
    Await.until("subscribed", () -> subscribers(url) == 1);
    assertNull(client.poll(QUIET), "the upstream's query was taken as a last event id");
    publish(url, "live");

    assertEquals(new SseRecorder.Event(url, "live", null), client.next());
  }

  @Test
  public void idOlderThanTheHistoryOrOfAnotherRunGivesTheLatestOfEachUrl() throws Exception {
    String base = serve(pushFedFanout(History.newBuilder().maxMessages(1).build()));
    String a = upstream.url("/push/a");
    String b = upstream.url("/push/b");
    MessageId old = publish(upstream.url("/push/c"), "c1");
    publish(a, "a1");
    publish(a, "a2");
    publish(b, "b1");
    publish(b, "b2");

    for (String id : List.of(old.toString(), "zzzzzzzz0000-1", "not an id")) {
      SseRecorder client = closeLater(SseRecorder.connect(this.client, new Request.Builder()
          .url(base + "/sse/" + a + "," + b)
          .header("Last-Event-ID", id)
          .build()));
      assertEquals(new SseRecorder.Event(a, "a2", null), client.next(), id);
      assertEquals(new SseRecorder.Event(b, "b2", null), client.next(), id);
      assertNull(client.poll(QUIET), id);
      client.close();
    }
  }

  @Test
  public void clientJoiningAUrlThatDeliveredBeforeGetsItsLatestMessageAtOnce() throws Exception {
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/a");
    SseRecorder early = sse(base, url);
    Await.until("subscribed", () -> subscribers(url) == 1);
    upstream.answer("/a", "old");
    upstream.answer("/a", "current");
    assertEquals("old", early.next().data());
    assertEquals("current", early.next().data());

    SseRecorder late = sse(base, url);
    BinRecorder lateBin = bin(base, url);

    assertEquals(new SseRecorder.Event(url, "current", null), late.next());
    assertEquals(new BinRecorder.Frame(url, bytes("current")), lateBin.next());
    upstream.answer("/a", "next");
    assertEquals("next", late.next().data());
    assertEquals("next", early.next().data());
    assertEquals("next", lateBin.next().text());
  }

  @Test
  public void latestOnJoinTurnedOffSendsOnlyWhatArrivesAfterJoining() throws Exception {
    String base = serve(pushFedFanout(History.standard()).latestOnJoin(false));
    String url = upstream.url("/push/a");
    publish(url, "before");

    SseRecorder client = sse(base, url);
    Await.until("subscribed", () -> subscribers(url) == 1);
    assertNull(client.poll(QUIET));
    publish(url, "after");

    assertEquals(new SseRecorder.Event(url, "after", null), client.next());
  }

  @Test
  public void reconnectingWhilePublishingNeitherLosesNorRepeatsAMessage() throws Exception {
    String base = serve(pushFedFanout(History.standard()));
    String url = upstream.url("/push/numbers");
    int messages = 300;
    AtomicInteger progress = new AtomicInteger();
    SseRecorder connection = sse(base, url);
    Await.until("subscribed", () -> subscribers(url) == 1);
    Thread publisher = new Thread(() -> {
      for (int i = 1; i <= messages && !Thread.currentThread().isInterrupted(); i++) {
        while (i > progress.get() + 20 && !Thread.currentThread().isInterrupted()) {
          Thread.yield();
        }
        publish(url, String.valueOf(i));
      }
    }, "publisher");
    publisher.start();
    cleanup.add(publisher::interrupt);

    int received = 0;
    int connections = 1;
    while (received < messages) {
      String lastId = null;
      for (int i = 0; i < 1 + (connections * 7) % 13 && received < messages; i++) {
        SseRecorder.Event event = connection.nextWithId();
        assertEquals(String.valueOf(received + 1), event.data(),
            "the message after " + received + ", on connection " + connections);
        received++;
        progress.set(received);
        lastId = event.id();
      }
      connection.close();
      connection = closeLater(SseRecorder.connect(client, new Request.Builder()
          .url(base + "/sse/" + url)
          .header("Last-Event-ID", lastId)
          .build()));
      connections++;
    }

    publisher.join(5000);
    assertTrue(connections > 20, "reconnected " + connections + " times");
    assertNull(connection.poll(QUIET), "nothing after the last message");
  }

  // --- Postbacks and push-fed URLs -----------------------------------------------------------

  @Test
  public void pushFedUrlIsNeverPolledAndGetsWhatIsPublished() throws Exception {
    String base = serve(pushFedFanout(History.standard()));
    String url = upstream.url("/push/a");
    SseRecorder client = sse(base, url);
    Await.until("subscribed", () -> subscribers(url) == 1);

    publish(url, "pushed");

    assertEquals(new SseRecorder.Event(url, "pushed", null), client.next());
    assertEquals(0, fanout.registry().pollerCount());
    assertNull(upstream.takeRequest(QUIET.toMillis()), "the push-fed URL was polled");
  }

  @Test
  public void postbackWithTheBearerTokenReachesSubscribersAsAPolledResponseWould()
      throws Exception {
    String base = serve(fanoutBuilder(Authorizer.allowAll()).postbacks(postbacks()));
    String url = upstream.url("/news");
    SseRecorder client = sse(base, url);
    Await.until("subscribed", () -> subscribers(url) == 1);

    byte[] latin1 = "caf\u00e9".getBytes(StandardCharsets.ISO_8859_1);
    try (Response response = postback(base, url, latin1, "text/plain; charset=ISO-8859-1",
        "Authorization", "Bearer " + SECRET)) {
      assertEquals(202, response.code());
      String id = response.body().string().strip();
      assertEquals(new SseRecorder.Event(url, "caf\u00e9", id), client.nextWithId());
    }
  }

  @Test
  public void postbackSignedWithHmacReachesSubscribers() throws Exception {
    String base = serve(pushFedFanout(History.standard()).postbacks(postbacks()));
    String url = upstream.url("/push/a?since=1,2");
    SseRecorder client = sse(base, url);
    Await.until("subscribed", () -> subscribers(url) == 1);
    long now = Instant.now().getEpochSecond();

    try (Response response = postback(base, url, bytes("signed"), "text/plain",
        "X-Fanout-Timestamp", String.valueOf(now),
        "X-Fanout-Signature", Signatures.sign(SECRET, now, url, bytes("signed")))) {
      assertEquals(202, response.code());
    }

    assertEquals(new SseRecorder.Event(url, "signed", null), client.next());
  }

  @Test
  public void postbackWithWrongMissingExpiredOrReplayedProofIs401AndPublishesNothing()
      throws Exception {
    String base = serve(pushFedFanout(History.standard()).postbacks(postbacks()));
    String url = upstream.url("/push/a");
    SseRecorder client = sse(base, url);
    Await.until("subscribed", () -> subscribers(url) == 1);
    long now = Instant.now().getEpochSecond();
    long expired = now - 600;
    byte[] body = bytes("forged");
    String[][] refused = {
        {},
        {"Authorization", "Bearer not-the-secret-at-all"},
        {"X-Fanout-Timestamp", String.valueOf(now),
            "X-Fanout-Signature", Signatures.sign("not-the-secret-at-all", now, url, body)},
        {"X-Fanout-Timestamp", String.valueOf(now),
            "X-Fanout-Signature", Signatures.sign(SECRET, now, url + "/other", body)},
        {"X-Fanout-Timestamp", String.valueOf(expired),
            "X-Fanout-Signature", Signatures.sign(SECRET, expired, url, body)},
    };
    for (String[] headers : refused) {
      try (Response response = postback(base, url, body, "text/plain", headers)) {
        assertEquals(401, response.code(), List.of(headers).toString());
        assertNotNull(response.header("WWW-Authenticate"));
      }
    }
    String[] signed = {"X-Fanout-Timestamp", String.valueOf(now),
        "X-Fanout-Signature", Signatures.sign(SECRET, now, url, bytes("once"))};
    try (Response response = postback(base, url, bytes("once"), "text/plain", signed)) {
      assertEquals(202, response.code());
    }
    try (Response replayed = postback(base, url, bytes("once"), "text/plain", signed)) {
      assertEquals(401, replayed.code(), "a replayed signature");
    }

    assertEquals(new SseRecorder.Event(url, "once", null), client.next());
    assertNull(client.poll(QUIET), "nothing else was published");
  }

  @Test
  public void postbackOverTheBodyCapIs413() throws Exception {
    String base = serve(pushFedFanout(History.standard())
        .postbacks(Postbacks.newBuilder().secret(SECRET).maxBodyBytes(1024).build()));
    String url = upstream.url("/push/a");

    try (Response response = postback(base, url, new byte[4096], null,
        "Authorization", "Bearer " + SECRET)) {
      assertEquals(413, response.code());
    }
    try (Response response = postback(base, url, new byte[1024], null,
        "Authorization", "Bearer " + SECRET)) {
      assertEquals(202, response.code());
    }
  }

  @Test
  public void postbackEndpointIsClosedWithoutASecret() throws Exception {
    String base = serve(pushFedFanout(History.standard()));
    String url = upstream.url("/push/a");
    SseRecorder client = sse(base, url);
    Await.until("subscribed", () -> subscribers(url) == 1);

    try (Response response = postback(base, url, bytes("x"), "text/plain",
        "Authorization", "Bearer " + SECRET)) {
      assertEquals(404, response.code());
    }
    assertNull(client.poll(QUIET), "nothing was published");
  }

  // --- CORS ----------------------------------------------------------------------------------

  @Test
  public void streamsCarryNoCorsHeadersByDefault() throws Exception {
    String base = serve(Authorizer.allowAll());
    SseRecorder client = closeLater(SseRecorder.connect(this.client, new Request.Builder()
        .url(base + "/sse/" + upstream.url("/a"))
        .header("Origin", APP)
        .build()));

    Response response = client.awaitOpen();
    assertNull(response.header("Access-Control-Allow-Origin"));
    assertNull(response.header("Vary"));
  }

  @Test
  public void allowedOriginIsEchoedWithVaryAndAnotherGetsNoAllowOrigin() throws Exception {
    String base = serve(fanoutBuilder(Authorizer.allowAll())
        .cors(CorsPolicy.newBuilder().allowOrigin(APP).build()));
    String url = upstream.url("/a");

    Response allowed = openWithOrigin(base + "/sse/" + url, APP);
    assertEquals(APP, allowed.header("Access-Control-Allow-Origin"));
    assertEquals("Origin", allowed.header("Vary"));
    assertNull(allowed.header("Access-Control-Allow-Credentials"));
    Response denied = openWithOrigin(base + "/sse/" + url, "https://evil.example");
    assertNull(denied.header("Access-Control-Allow-Origin"));
    assertEquals("Origin", denied.header("Vary"));
    try (Response refusal = client.newCall(new Request.Builder()
        .url(base + "/xml/" + url).header("Origin", APP).build()).execute()) {
      assertEquals(404, refusal.code());
      assertEquals(APP, refusal.header("Access-Control-Allow-Origin"));
    }
  }

  @Test
  public void anyOriginIsAStarWithoutCredentialsAndTheEchoedOriginWithThem() throws Exception {
    String base = serve(fanoutBuilder(Authorizer.allowAll())
        .cors(CorsPolicy.newBuilder().allowAnyOrigin().build()));
    Response star = openWithOrigin(base + "/sse/" + upstream.url("/a"), APP);
    assertEquals("*", star.header("Access-Control-Allow-Origin"));
    assertNull(star.header("Access-Control-Allow-Credentials"));

    base = serve(fanoutBuilder(Authorizer.allowAll())
        .cors(CorsPolicy.newBuilder().allowAnyOrigin().allowCredentials(true).build()));
    Response echoed = openWithOrigin(base + "/sse/" + upstream.url("/a"), APP);
    assertEquals(APP, echoed.header("Access-Control-Allow-Origin"));
    assertEquals("true", echoed.header("Access-Control-Allow-Credentials"));
    assertEquals("Origin", echoed.header("Vary"));
  }

  @Test
  public void preflightFromAnAllowedOriginIsAnsweredAndFromAnotherRefused() throws Exception {
    String base = serve(fanoutBuilder(Authorizer.allowAll())
        .cors(CorsPolicy.newBuilder().allowOrigin(APP).allowCredentials(true).build()));
    String target = base + "/sse/" + upstream.url("/a");

    try (Response allowed = preflight(target, APP, "last-event-id")) {
      assertEquals(204, allowed.code());
      assertEquals(APP, allowed.header("Access-Control-Allow-Origin"));
      assertEquals("true", allowed.header("Access-Control-Allow-Credentials"));
      assertEquals("GET", allowed.header("Access-Control-Allow-Methods"));
      assertEquals("last-event-id", allowed.header("Access-Control-Allow-Headers"));
      assertNotNull(allowed.header("Access-Control-Max-Age"));
    }
    try (Response denied = preflight(target, "https://evil.example", "last-event-id")) {
      assertEquals(403, denied.code());
      assertNull(denied.header("Access-Control-Allow-Origin"));
    }
    assertEquals(0, fanout.registry().pollerCount(), "a preflight subscribes to nothing");
  }

  @Test
  public void preflightIsRefusedWithoutCors() throws Exception {
    String base = serve(Authorizer.allowAll());

    try (Response response = preflight(base + "/sse/" + upstream.url("/a"), APP, null)) {
      assertEquals(405, response.code());
      assertNull(response.header("Access-Control-Allow-Origin"));
    }
  }

  /** A fanout whose URLs under {@code /push/} on the upstream are push-fed, never polled. */
  private Fanout.Builder pushFedFanout(History history) {
    return fanoutBuilder(Authorizer.allowAll()).registry(registryBuilder()
        .pushFedPrefix(upstream.url("/push/"))
        .history(history)
        .build());
  }

  private MessageId publish(String url, String body) {
    return fanout.registry().publish(UpstreamUrl.of(url), bytes(body), "text/plain");
  }

  private static Postbacks postbacks() {
    return Postbacks.newBuilder().secret(SECRET).build();
  }

  private Response postback(String base, String url, byte[] body, String contentType,
      String... headers) throws IOException {
    Request.Builder request = new Request.Builder()
        .url(base + "/publish?url=" + URLEncoder.encode(url, StandardCharsets.UTF_8))
        .post(RequestBody.create(body, contentType == null ? null : MediaType.get(contentType)));
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
    }
    return client.newCall(request.build()).execute();
  }

  private Response preflight(String url, String origin, String headers) throws IOException {
    Request.Builder request = new Request.Builder()
        .url(url)
        .method("OPTIONS", null)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET");
    if (headers != null) {
      request.header("Access-Control-Request-Headers", headers);
    }
    return client.newCall(request.build()).execute();
  }

  /** Opens an SSE stream with an {@code Origin} and returns its response, kept open. */
  private Response openWithOrigin(String url, String origin) throws Exception {
    return closeLater(SseRecorder.connect(client, new Request.Builder()
        .url(url)
        .header("Origin", origin)
        .build())).awaitOpen();
  }

  /** Reads stream lines up to and including {@code last}, skipping heartbeats. */
  private static List<String> linesThrough(BufferedSource stream, String last) throws IOException {
    List<String> lines = new ArrayList<>();
    for (String line = stream.readUtf8LineStrict(); ; line = stream.readUtf8LineStrict()) {
      if (!line.equals(":")) {
        lines.add(line);
      }
      if (line.equals(last)) {
        return lines;
      }
    }
  }

  // --- Helpers -------------------------------------------------------------------------------

  /** What one client got of a numbered sequence: how many in order, and the worst lag. */
  private record Delivery(int count, long worstLagNanos) {}

  /**
   * Answers {@code count} requests for {@code path} with bodies of {@code size} bytes, each filled
   * with its number, starting at {@code first}.
   */
  private void answerNumbered(String path, int first, int count, int size) {
    for (int i = first; i < first + count; i++) {
      byte[] body = new byte[size];
      java.util.Arrays.fill(body, (byte) i);
      upstream.answer(path, new MockResponse.Builder().body(new Buffer().write(body)).build());
    }
  }

  /**
   * Reads frames numbered 0 to {@code messages - 1} and returns how many arrived in order before
   * the first one that was missing or out of place; with {@code answeredAt}, also the worst time
   * from an answer to its frame's arrival.
   */
  private static Delivery receiveNumbered(BinRecorder client, int messages, long[] answeredAt) {
    long worstLag = 0;
    for (int i = 0; i < messages; i++) {
      BinRecorder.Frame frame;
      try {
        frame = client.next();
      } catch (AssertionError | InterruptedException missing) {
        return new Delivery(i, worstLag);
      }
      if (frame.body().length == 0 || frame.body()[0] != (byte) i) {
        return new Delivery(i, worstLag);
      }
      if (answeredAt != null) {
        worstLag = Math.max(worstLag, frame.receivedNanos() - answeredAt[i]);
      }
    }
    return new Delivery(messages, worstLag);
  }

  /** Whether the next frame of {@code client} is message {@code i}, waiting for it with a bound. */
  private static boolean receiveNumberedFrom(BinRecorder client, int i) {
    try {
      BinRecorder.Frame frame = client.next();
      return frame.body().length > 0 && frame.body()[0] == (byte) i;
    } catch (AssertionError | InterruptedException missing) {
      return false;
    }
  }

  /** Heap in use after a full collection, as near as the JVM tells it. */
  private static long usedHeapAfterGc() {
    java.lang.management.MemoryMXBean memory =
        java.lang.management.ManagementFactory.getMemoryMXBean();
    System.gc();
    return memory.getHeapMemoryUsage().getUsed();
  }

  /** A fault's name in the report, with the transport it was injected into. */
  private String fault(String name) {
    return name + " (" + getClass().getSimpleName().replace("ConformanceTest", "") + ")";
  }

  private static String rawPath(String base) {
    String path = java.net.URI.create(base).getRawPath();
    return path == null ? "" : path;
  }

  private void drainRecordedRequests() throws InterruptedException {
    while (upstream.takeRequest(0) != null) {
      // Discard what arrived before the point the test cares about.
    }
  }

  private static void assertOneLine(String body) {
    String text = body.endsWith("\n") ? body.substring(0, body.length() - 1) : body;
    assertFalse(text.isBlank(), "a reason is given");
    assertFalse(text.contains("\n"), "the reason is one line: " + body);
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
