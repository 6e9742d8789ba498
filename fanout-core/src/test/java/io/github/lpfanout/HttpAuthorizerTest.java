package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;
import okio.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP authorizer against a real auth server on loopback. */
class HttpAuthorizerTest {
  private static final List<String> URLS =
      List.of("http://a.example/q?ids=1,2", "HTTP://B.example:80/caf\u00e9");

  private final MockWebServer authServer = new MockWebServer();
  private HttpAuthorizer authorizer;

  @BeforeEach
  void startAuthServer() throws Exception {
    authServer.start(InetAddress.getByName("127.0.0.1"), 0);
  }

  @AfterEach
  void stop() {
    if (authorizer != null) {
      authorizer.close();
    }
    authServer.close();
  }

  @Test
  void okAdmits() throws Exception {
    authorizer = authorizer().build();
    authServer.enqueue(new MockResponse.Builder().code(200).body("welcome").build());

    assertTrue(decide(request(Map.of())).isAllowed());
  }

  @Test
  void unauthorizedIsRelayedWithItsStatusHeadersAndBody() throws Exception {
    authorizer = authorizer().build();
    authServer.enqueue(new MockResponse.Builder()
        .code(401)
        .setHeader("WWW-Authenticate", "Bearer realm=\"fanout\"")
        .setHeader("Content-Type", "application/json")
        .setHeader("Location", "https://login.example/")
        .setHeader("Set-Cookie", "session=secret")
        .setHeader("X-Internal", "not for clients")
        .body("{\"error\":\"login required\"}")
        .build());

    AuthDecision decision = decide(request(Map.of()));

    assertFalse(decision.isAllowed());
    Refusal refusal = decision.refusal();
    assertEquals(401, refusal.status());
    assertEquals("{\"error\":\"login required\"}", refusal.bodyText());
    Map<String, List<String>> expected = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    expected.put("WWW-Authenticate", List.of("Bearer realm=\"fanout\""));
    expected.put("Content-Type", List.of("application/json"));
    expected.put("Location", List.of("https://login.example/"));
    assertEquals(expected, refusal.headers());
  }

  @Test
  void everyWwwAuthenticateChallengeIsRelayed() throws Exception {
    authorizer = authorizer().build();
    authServer.enqueue(new MockResponse.Builder()
        .code(401)
        .addHeader("WWW-Authenticate", "Basic realm=\"a\"")
        .addHeader("WWW-Authenticate", "Bearer")
        .build());

    Refusal refusal = decide(request(Map.of())).refusal();

    assertEquals(List.of("Basic realm=\"a\"", "Bearer"), refusal.headers().get("WWW-Authenticate"));
  }

  @Test
  void aStatusThatCannotBeRelayedGives502() throws Exception {
    authorizer = authorizer().build();
    authServer.enqueue(new MockResponse.Builder().status("HTTP/1.1 600 Odd").build());
    authServer.enqueue(new MockResponse.Builder().code(200).build());

    AuthDecision odd = decide(request(Map.of()));
    assertEquals(502, odd.refusal().status());
    assertTrue(decide(request(Map.of())).isAllowed(), "the authorizer keeps working");
  }

  @Test
  void aKeepAliveServerClosingIdleConnectionsDoesNotRefuseClients() throws Exception {
    authorizer = authorizer().build();
    for (int i = 0; i < 3; i++) {
      authServer.enqueue(new MockResponse.Builder()
          .code(200)
          .onResponseEnd(SocketEffect.ShutdownConnection.INSTANCE)
          .build());
    }

    for (int i = 0; i < 3; i++) {
      assertTrue(decide(request(Map.of())).isAllowed(), "client " + i);
    }
  }

  @Test
  void aForwardedHeaderWithAControlCharacterIsRefusedWithoutAsking() throws Exception {
    authorizer = authorizer().build();

    AuthDecision decision = decide(request(Map.of("Cookie", List.of("a=1\u001bb"))));
    assertEquals(400, decision.refusal().status());
    assertEquals(0, authServer.getRequestCount());
  }

  @Test
  void forbiddenIsRelayed() throws Exception {
    authorizer = authorizer().build();
    authServer.enqueue(new MockResponse.Builder()
        .code(403)
        .setHeader("Content-Type", "text/plain")
        .body("not yours")
        .build());

    Refusal refusal = decide(request(Map.of())).refusal();

    assertEquals(403, refusal.status());
    assertEquals("not yours", refusal.bodyText());
    assertEquals(List.of("text/plain"), refusal.headers().get("Content-Type"));
  }

  @Test
  void redirectIsRelayedNotFollowed() throws Exception {
    authorizer = authorizer().build();
    authServer.enqueue(new MockResponse.Builder()
        .code(302)
        .setHeader("Location", authServer.url("/login").toString())
        .build());

    Refusal refusal = decide(request(Map.of())).refusal();

    assertEquals(302, refusal.status());
    assertEquals(List.of(authServer.url("/login").toString()), refusal.headers().get("Location"));
    authServer.takeRequest(5, TimeUnit.SECONDS);
    assertNull(authServer.takeRequest(200, TimeUnit.MILLISECONDS), "the redirect was followed");
  }

  @Test
  void otherStatusesAreRelayedToo() throws Exception {
    authorizer = authorizer().build();
    authServer.enqueue(new MockResponse.Builder().code(204).build());
    authServer.enqueue(new MockResponse.Builder().code(500).body("auth bug").build());

    assertEquals(204, decide(request(Map.of())).refusal().status());
    Refusal error = decide(request(Map.of())).refusal();
    assertEquals(500, error.status());
    assertEquals("auth bug", error.bodyText());
  }

  @Test
  void relayedBodyIsCapped() throws Exception {
    authorizer = authorizer().maxRelayedBodyBytes(10).build();
    authServer.enqueue(new MockResponse.Builder().code(401).body("0123456789abcdef").build());
    authServer.enqueue(
        new MockResponse.Builder().code(401).chunkedBody("0123456789abcdef", 3).build());

    assertEquals("0123456789", decide(request(Map.of())).refusal().bodyText());
    assertEquals("0123456789", decide(request(Map.of())).refusal().bodyText());
  }

  @Test
  void defaultCapIs64KiB() throws Exception {
    authorizer = authorizer().build();
    byte[] body = new byte[1024 * 1024];
    new Random(1).nextBytes(body);
    authServer.enqueue(new MockResponse.Builder().code(403).body(new Buffer().write(body)).build());

    byte[] relayed = decide(request(Map.of())).refusal().body();

    assertArrayEquals(Arrays.copyOf(body, 64 * 1024), relayed);
  }

  @Test
  void unreachableAuthServerIs503() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      closedPort = socket.getLocalPort();
    }
    authorizer = HttpAuthorizer.newBuilder()
        .authUrl("http://127.0.0.1:" + closedPort + "/auth")
        .build();

    Refusal refusal = decide(request(Map.of())).refusal();

    assertEquals(503, refusal.status());
    assertEquals("auth server unreachable\n", refusal.bodyText());
  }

  @Test
  void authServerSlowerThanTheTimeoutIs503() throws Exception {
    authorizer = authorizer().timeout(Duration.ofMillis(300)).build();
    authServer.enqueue(new MockResponse.Builder()
        .code(200)
        .headersDelay(3, TimeUnit.SECONDS)
        .build());

    long start = System.nanoTime();
    Refusal refusal = decide(request(Map.of())).refusal();
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    assertEquals(503, refusal.status());
    assertEquals("auth server did not answer within 300 ms\n", refusal.bodyText());
    assertTrue(tookMillis < 2500, "refused after " + tookMillis + " ms");
  }

  @Test
  void authServerThatStallsInTheBodyIs503() throws Exception {
    authorizer = authorizer().timeout(Duration.ofMillis(300)).build();
    authServer.enqueue(new MockResponse.Builder()
        .code(401)
        .body("slow body")
        .bodyDelay(3, TimeUnit.SECONDS)
        .build());

    assertEquals(503, decide(request(Map.of())).refusal().status());
  }

  @Test
  void clientBeyondTheConcurrencyLimitIsRefusedAtOnce() throws Exception {
    authorizer = authorizer().maxConcurrentRequests(1).build();
    authServer.enqueue(new MockResponse.Builder()
        .code(200)
        .headersDelay(500, TimeUnit.MILLISECONDS)
        .build());
    authServer.enqueue(new MockResponse.Builder().code(200).build());

    CompletableFuture<AuthDecision> first =
        authorizer.authorize(new AuthRequest(URLS, request(Map.of()))).toCompletableFuture();
    Refusal busy = decide(request(Map.of())).refusal();

    assertEquals(503, busy.status());
    assertTrue(first.get(5, TimeUnit.SECONDS).isAllowed());
    assertTrue(decide(request(Map.of())).isAllowed(), "the permit came back");
    assertEquals(2, authServer.getRequestCount());
  }

  @Test
  void oneAddressCannotTakeEverySlotFromTheOthers() throws Exception {
    authorizer = authorizer().maxConcurrentRequests(4).maxConcurrentRequestsPerAddress(2).build();
    CountDownLatch release = holdRequestsForwardedFor("192.0.2.66");
    StreamRequest flooder = StreamRequest.of("/sse/http://a.example/", Map.of(), "192.0.2.66");
    List<CompletableFuture<AuthDecision>> held = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      held.add(authorizer.authorize(new AuthRequest(URLS, flooder)).toCompletableFuture());
    }

    Refusal refused = decide(flooder).refusal();
    boolean otherAdmitted =
        decide(StreamRequest.of("/sse/http://a.example/", Map.of(), "192.0.2.7")).isAllowed();
    release.countDown();

    assertEquals(429, refused.status());
    assertTrue(refused.bodyText().contains("this address"), refused.bodyText());
    assertTrue(otherAdmitted, "another address still gets a slot");
    for (CompletableFuture<AuthDecision> decision : held) {
      assertTrue(decision.get(5, TimeUnit.SECONDS).isAllowed());
    }
    assertTrue(decide(flooder).isAllowed(), "the address's slots came back");
  }

  @Test
  void anAnsweredRequestNoLongerCountsAgainstItsAddressWhenTheCallerHearsTheAnswer()
      throws Exception {
    authorizer = authorizer().maxConcurrentRequests(4).maxConcurrentRequestsPerAddress(1).build();
    authServer.enqueue(new MockResponse.Builder().code(200).build());
    authServer.enqueue(new MockResponse.Builder().code(200).build());
    StreamRequest client = StreamRequest.of("/sse/http://a.example/", Map.of(), "192.0.2.66");

    // As an admitted client's next connection would: ask again as soon as the answer is heard.
    AuthDecision second = authorizer.authorize(new AuthRequest(URLS, client))
        .thenCompose(first -> authorizer.authorize(new AuthRequest(URLS, client)))
        .toCompletableFuture()
        .get(5, TimeUnit.SECONDS);

    assertTrue(second.isAllowed(), () -> "refused: " + second.refusal().status() + " "
        + second.refusal().bodyText());
  }

  @Test
  void oneIpv6HostCannotTakeEverySlotWithAddressesOfItsOwnSubnet() throws Exception {
    // Every IPv6 host has a /64 of its own (privacy addresses rotate within it): were the share
    // counted per address, one host would take every slot with a few of its addresses.
    authorizer = authorizer().maxConcurrentRequests(4).maxConcurrentRequestsPerAddress(2).build();
    CountDownLatch release = holdRequestsForwardedFor("2001:db8:0:0:");
    List<CompletableFuture<AuthDecision>> held = new ArrayList<>();
    for (String address : List.of("2001:db8:0:0:0:0:0:1", "2001:db8:0:0:0:0:0:2")) {
      StreamRequest flooder = StreamRequest.of("/sse/http://a.example/", Map.of(), address);
      for (int i = 0; i < 2; i++) {
        held.add(authorizer.authorize(new AuthRequest(URLS, flooder)).toCompletableFuture());
      }
    }

    AuthDecision other = decide(
        StreamRequest.of("/sse/http://a.example/", Map.of(), "2001:db8:0:1:0:0:0:7"));
    release.countDown();
    for (CompletableFuture<AuthDecision> decision : held) {
      decision.get(5, TimeUnit.SECONDS);
    }

    assertTrue(other.isAllowed(), "a host on another /64 was refused while one /64 held every"
        + " slot: " + (other.isAllowed() ? "" : other.refusal().status() + " "
        + other.refusal().bodyText()));
  }

  @Test
  void theShareIsCountedByIpv4AddressAndByIpv6Slash64() {
    assertEquals("192.0.2.7", HttpAuthorizer.source("192.0.2.7"));
    assertEquals("2001:db8:0:0::/64", HttpAuthorizer.source("2001:db8:0:0:0:0:0:1"));
    assertEquals("2001:db8:0:0::/64", HttpAuthorizer.source("2001:DB8::ffff:2"));
    assertEquals("2001:db8:0:0::/64", HttpAuthorizer.source("2001:db8::1%eth0"));
    assertEquals("2001:db8:0:1::/64", HttpAuthorizer.source("2001:db8:0:1::7"));
    assertEquals("192.0.2.7", HttpAuthorizer.source("::ffff:192.0.2.7"));
    assertEquals("not-an-address", HttpAuthorizer.source("not-an-address"));
    assertNull(HttpAuthorizer.source(null));
  }

  @Test
  void timedOutRequestGivesItsPermitBack() throws Exception {
    authorizer = authorizer().maxConcurrentRequests(1).timeout(Duration.ofMillis(200)).build();
    authServer.enqueue(new MockResponse.Builder()
        .code(200)
        .headersDelay(2, TimeUnit.SECONDS)
        .build());
    authServer.enqueue(new MockResponse.Builder().code(200).build());

    assertEquals(503, decide(request(Map.of())).refusal().status());
    assertTrue(decide(request(Map.of())).isAllowed());
  }

  @Test
  void authorizeReturnsBeforeTheAuthServerAnswers() throws Exception {
    authorizer = authorizer().build();
    authServer.enqueue(new MockResponse.Builder()
        .code(200)
        .headersDelay(500, TimeUnit.MILLISECONDS)
        .build());

    CompletableFuture<AuthDecision> decision =
        authorizer.authorize(new AuthRequest(URLS, request(Map.of()))).toCompletableFuture();

    assertFalse(decision.isDone(), "no thread waits for the auth server");
    assertTrue(decision.get(5, TimeUnit.SECONDS).isAllowed());
  }

  @Test
  void postBodyIsTheCommaJoinedListAsTheClientWroteIt() throws Exception {
    authorizer = authorizer().build();
    authServer.enqueue(new MockResponse.Builder().code(200).build());

    decide(request(Map.of()));

    RecordedRequest post = authServer.takeRequest(5, TimeUnit.SECONDS);
    assertNotNull(post);
    assertEquals("POST", post.getMethod());
    assertEquals("/auth", post.getTarget());
    assertEquals("http://a.example/q?ids=1,2,HTTP://B.example:80/caf\u00e9",
        post.getBody().string(StandardCharsets.UTF_8));
    assertEquals("text/plain; charset=utf-8", post.getHeaders().get("Content-Type"));
  }

  @Test
  void cookieAndAuthorizationAreForwardedAndOtherHeadersAreNot() throws Exception {
    authorizer = authorizer().build();
    authServer.enqueue(new MockResponse.Builder().code(200).build());

    decide(request(Map.of(
        "cookie", List.of("session=abc", "theme=dark"),
        "AUTHORIZATION", List.of("Bearer token-1"),
        "X-Api-Key", List.of("secret"),
        "Host", List.of("fanout.example"),
        "User-Agent", List.of("client/1.0"),
        "Accept", List.of("text/event-stream"))));

    Headers headers = authServer.takeRequest(5, TimeUnit.SECONDS).getHeaders();
    assertEquals(List.of("session=abc", "theme=dark"), headers.values("Cookie"));
    assertEquals(List.of("Bearer token-1"), headers.values("Authorization"));
    assertNull(headers.get("X-Api-Key"));
    assertNull(headers.get("Accept"));
    assertEquals(authServer.url("/").host() + ":" + authServer.getPort(), headers.get("Host"));
    assertFalse(headers.get("User-Agent").contains("client/1.0"));
  }

  @Test
  void configuredForwardedHeadersReplaceTheDefault() throws Exception {
    authorizer = authorizer().forwardedHeaders(List.of("X-Session")).build();
    authServer.enqueue(new MockResponse.Builder().code(200).build());

    decide(request(Map.of("X-Session", List.of("s1"), "Cookie", List.of("c=1"))));

    Headers headers = authServer.takeRequest(5, TimeUnit.SECONDS).getHeaders();
    assertEquals("s1", headers.get("X-Session"));
    assertNull(headers.get("Cookie"));
  }

  @Test
  void xForwardedForIsForwardedEvenWhenTheClientAddressIsUnknown() throws Exception {
    authorizer = authorizer().build();
    authServer.enqueue(new MockResponse.Builder().code(200).build());

    decide(StreamRequest.of("/sse/http://a.example/",
        Map.of("X-Forwarded-For", List.of("198.51.100.4")), null));

    Headers headers = authServer.takeRequest(5, TimeUnit.SECONDS).getHeaders();
    assertEquals("198.51.100.4", headers.get("X-Forwarded-For"));
  }

  @Test
  void xForwardedForGainsTheClientAddress() throws Exception {
    authorizer = authorizer().build();
    authServer.enqueue(new MockResponse.Builder().code(200).build());
    authServer.enqueue(new MockResponse.Builder().code(200).build());

    decide(StreamRequest.of("/sse/http://a.example/", Map.of(), "192.0.2.7"));
    decide(StreamRequest.of("/sse/http://a.example/",
        Map.of("X-Forwarded-For", List.of("198.51.100.1, 198.51.100.2", "203.0.113.5")),
        "192.0.2.7"));

    assertEquals(List.of("192.0.2.7"),
        authServer.takeRequest(5, TimeUnit.SECONDS).getHeaders().values("X-Forwarded-For"));
    assertEquals(List.of("198.51.100.1, 198.51.100.2, 203.0.113.5, 192.0.2.7"),
        authServer.takeRequest(5, TimeUnit.SECONDS).getHeaders().values("X-Forwarded-For"));
  }

  /**
   * Makes the auth server admit every client, holding its answer to those whose address starts
   * with {@code prefix} until the returned latch is counted down (or 10 s pass).
   */
  private CountDownLatch holdRequestsForwardedFor(String prefix) {
    CountDownLatch release = new CountDownLatch(1);
    authServer.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        String from = request.getHeaders().get("X-Forwarded-For");
        if (from != null && from.startsWith(prefix)) {
          release.await(10, TimeUnit.SECONDS);
        }
        return new MockResponse.Builder().code(200).build();
      }
    });
    return release;
  }

  private HttpAuthorizer.Builder authorizer() {
    return HttpAuthorizer.newBuilder().authUrl(authServer.url("/auth").toString());
  }

  private static StreamRequest request(Map<String, List<String>> headers) {
    return StreamRequest.of("/sse/http://a.example/q?ids=1,2", headers, "127.0.0.1");
  }

  private AuthDecision decide(StreamRequest request) throws Exception {
    return authorizer.authorize(new AuthRequest(URLS, request))
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }
}
