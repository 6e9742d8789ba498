package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.FaultReport;
import io.github.lpfanout.testing.HttpDate;
import io.github.lpfanout.testing.RawUpstream;
import io.github.lpfanout.testing.SteppingUpstream;
import io.github.lpfanout.testing.TimedUpstream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Predicate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;
import mockwebserver3.MockResponse;
import okhttp3.Call;
import okhttp3.Dispatcher;
import okhttp3.EventListener;
import okhttp3.OkHttpClient;
import okhttp3.Response;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import okio.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each upstream fault, injected on loopback beside a healthy URL polled by the same registry. For
 * every fault the test checks that the faulty URL's poller delivers nothing for the bad answers,
 * backs off, and recovers on the next good one; that the healthy URL delivered during the fault;
 * and that its subscriber got every message its upstream published, once and in order. The
 * figures go to the {@link FaultReport}.
 */
class UpstreamFaultTest {
  private static final Duration INITIAL_BACKOFF = Duration.ofMillis(100);
  private static final Duration MAX_BACKOFF = Duration.ofMillis(400);
  private static final Duration CALL_TIMEOUT = Duration.ofMillis(800);
  private static final long MAX_BODY_BYTES = 64 * 1024;

  /** A message the faulty URL delivered, and how many the healthy URL had delivered by then. */
  private record Seen(String body, int healthyDeliveredBefore) {}

  private final List<AutoCloseable> cleanup = new ArrayList<>();
  private final List<String> healthyBodies = Collections.synchronizedList(new ArrayList<>());
  private final List<Seen> faultyDeliveries = new CopyOnWriteArrayList<>();
  private SteppingUpstream healthy;
  private PollerRegistry registry;
  private int healthyAtFaultStart;

  @BeforeEach
  void startHealthyUpstream() throws IOException {
    healthy = new SteppingUpstream(Duration.ofMillis(100));
  }

  @AfterEach
  void stopEverything() throws Exception {
    if (registry != null) {
      registry.close();
    }
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      cleanup.get(i).close();
    }
    healthy.close();
  }

  private <T extends AutoCloseable> T closeLater(T closeable) {
    cleanup.add(closeable);
    return closeable;
  }

  // --- Harness --------------------------------------------------------------------------------

  /**
   * Builds the registry (with {@code client} if not null), subscribes the healthy URL, starts its
   * upstream publishing a message every 10 ms, and waits for the first delivery.
   */
  private void startRegistry(OkHttpClient client, Consumer<PollerRegistry.Builder> tweaks) {
    PollerRegistry.Builder builder = PollerRegistry.newBuilder()
        .minPollGap(Duration.ofMillis(5))
        .initialBackoff(INITIAL_BACKOFF)
        .maxBackoff(MAX_BACKOFF)
        .readTimeout(Duration.ofSeconds(5))
        .callTimeout(CALL_TIMEOUT)
        .maxBodyBytes(MAX_BODY_BYTES);
    if (client != null) {
      builder.client(client);
    }
    tweaks.accept(builder);
    registry = closeLater(builder.build());

    closeLater(registry.subscribe(List.of(UpstreamUrl.of(healthy.url("/healthy"))),
        (url, message) -> healthyBodies.add(text(message))));
    healthy.publishEvery(Duration.ofMillis(10));
    Await.until("the healthy URL delivering", () -> healthyBodies.size() >= 3);
  }

  private void startRegistry(OkHttpClient client) {
    startRegistry(client, builder -> { });
  }

  /** Subscribes a client to the faulty URL, noting how far the healthy URL had got. */
  private void subscribeFaulty(String url) {
    healthyAtFaultStart = healthyBodies.size();
    closeLater(registry.subscribe(List.of(UpstreamUrl.of(url)),
        (u, message) -> faultyDeliveries.add(new Seen(text(message), healthyBodies.size()))));
  }

  private static String text(Message message) {
    return new String(message.body(), StandardCharsets.UTF_8);
  }

  /**
   * Waits for the faulty URL to deliver {@code "recovered"}, checks that it delivered nothing
   * before, and that the healthy URL delivered while the fault lasted.
   */
  private void assertRecovered() {
    Await.until("the faulty URL recovering", () -> !faultyDeliveries.isEmpty());
    Seen first = faultyDeliveries.get(0);
    assertEquals("recovered", first.body(), "the first delivery of the faulty URL");
    assertTrue(first.healthyDeliveredBefore() > healthyAtFaultStart,
        "the healthy URL delivered nothing while the fault lasted");
  }

  /**
   * Stops the healthy upstream, waits for its last message, records the figures of {@code fault}
   * and checks that the healthy subscriber got every message, once and in order, and the faulty
   * one nothing but its recovery.
   */
  private void finish(String fault, int injected) throws Exception {
    int expected = healthy.stop();
    Await.until("the healthy subscriber catching up", Duration.ofSeconds(5),
        () -> healthyBodies.size() >= expected || healthy.violations().size() > 0);
    List<String> received = List.copyOf(healthyBodies);
    List<String> owed = new ArrayList<>();
    for (int n = 1; n <= expected; n++) {
      owed.add(SteppingUpstream.body(n));
    }
    int delivered = (int) owed.stream().filter(received::contains).count();

    FaultReport.record(fault, injected, delivered, expected);
    assertEquals(owed, received, "what the healthy subscriber received");
    assertEquals(List.of(), healthy.violations());
    assertEquals(List.of("recovered"), faultyDeliveries.stream().map(Seen::body).toList(),
        "what the faulty URL delivered");
  }

  /**
   * Checks that consecutive attempts (times from {@link System#nanoTime()}) were spaced at least by
   * the lower jitter bound of the backoff after each failure: half of it.
   */
  private static void assertBackedOff(List<Long> attempts) {
    PollTiming timing = new PollTiming(Duration.ZERO, INITIAL_BACKOFF, MAX_BACKOFF,
        Duration.ZERO, Duration.ZERO);
    for (int failures = 1; failures < attempts.size(); failures++) {
      long gap = attempts.get(failures) - attempts.get(failures - 1);
      long lowerBound = timing.backoffNanos(failures) / 2;
      assertTrue(gap >= lowerBound, "after " + failures + " failures the next attempt came "
          + TimeUnit.NANOSECONDS.toMillis(gap) + " ms later, before the backoff's "
          + TimeUnit.NANOSECONDS.toMillis(lowerBound) + " ms");
    }
  }

  private static List<Long> nanos(List<TimedUpstream.Arrival> arrivals) {
    return arrivals.stream().map(TimedUpstream.Arrival::nanos).toList();
  }

  private static InetAddress loopback() throws UnknownHostException {
    return InetAddress.getByName("127.0.0.1");
  }

  /**
   * A client for the tests that must control the resolver or the trusted certificates, shaped
   * like the registry's own, that records every call. Its resolver knows only {@code localhost}
   * (the healthy upstream's name) and refuses every other name, so that nothing is ever looked up.
   */
  private OkHttpClient testClient(CallLog log, Consumer<OkHttpClient.Builder> tweaks) {
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(100);
    dispatcher.setMaxRequestsPerHost(100);
    OkHttpClient.Builder builder = new OkHttpClient.Builder()
        .dispatcher(dispatcher)
        .readTimeout(Duration.ofSeconds(5))
        .callTimeout(CALL_TIMEOUT)
        .retryOnConnectionFailure(false)
        .followRedirects(false)
        .eventListenerFactory(call -> log)
        .dns(hostname -> {
          if (hostname.equals("localhost")) {
            return List.of(InetAddress.getByAddress(hostname, new byte[] {127, 0, 0, 1}));
          }
          throw new UnknownHostException(hostname + ": no such host (test resolver)");
        });
    tweaks.accept(builder);
    OkHttpClient client = builder.build();
    closeLater(() -> {
      client.dispatcher().cancelAll();
      client.dispatcher().executorService().shutdownNow();
      client.connectionPool().evictAll();
    });
    return client;
  }

  /**
   * Records, per call, when it started and how it failed; and releases a permit of {@link
   * #headsRead} each time a response head from {@link #headsPort} has been read.
   */
  private static final class CallLog extends EventListener {
    record Attempt(String host, int port, long startNanos) {}

    record Failure(String host, int port, IOException cause) {}

    final List<Attempt> attempts = new CopyOnWriteArrayList<>();
    final List<Failure> failures = new CopyOnWriteArrayList<>();
    final Semaphore headsRead = new Semaphore(0);
    volatile int headsPort = -1;

    @Override
    public void callStart(Call call) {
      attempts.add(new Attempt(
          call.request().url().host(), call.request().url().port(), System.nanoTime()));
    }

    @Override
    public void responseHeadersEnd(Call call, Response response) {
      if (call.request().url().port() == headsPort) {
        headsRead.release();
      }
    }

    @Override
    public void callFailed(Call call, IOException e) {
      failures.add(new Failure(call.request().url().host(), call.request().url().port(), e));
    }

    List<Long> attemptsAt(int port) {
      return attempts.stream().filter(a -> a.port() == port).map(Attempt::startNanos).toList();
    }

    int failuresAt(int port, Predicate<IOException> kind) {
      return (int) failures.stream()
          .filter(f -> f.port() == port && kind.test(f.cause()))
          .count();
    }
  }

  // --- Connection faults ----------------------------------------------------------------------

  @Test
  void connectionRefusedBacksOffAndRecoversWhenTheUpstreamListens() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, loopback())) {
      port = probe.getLocalPort();
    }
    CallLog log = new CallLog();
    startRegistry(testClient(log, builder -> { }));
    subscribeFaulty("http://127.0.0.1:" + port + "/feed");

    Await.until("three refused connections", () -> log.failuresAt(port, e -> true) >= 3);
    int injected = log.failuresAt(port, e -> true);
    List<Long> attempts = log.attemptsAt(port).subList(0, injected);
    closeLater(TimedUpstream.startOn(port)).enqueue("recovered");

    assertRecovered();
    assertBackedOff(attempts);
    finish("connection refused", injected);
  }

  @Test
  void aResetBeforeTheResponseHeadersBacksOffAndRecovers() throws Exception {
    RawUpstream upstream = closeLater(new RawUpstream());
    upstream.enqueue(RawUpstream.reset()).enqueue(RawUpstream.reset())
        .enqueue(RawUpstream.ok("recovered"));
    startRegistry(null);
    subscribeFaulty(upstream.url("/feed"));

    assertRecovered();
    assertBackedOff(upstream.awaitArrivals(3));
    finish("reset before headers", 2);
  }

  @Test
  void aResetInTheMiddleOfTheBodyDeliversNothingAndRecovers() throws Exception {
    CallLog log = new CallLog();
    OkHttpClient client = testClient(log, builder -> { });
    RawUpstream upstream = closeLater(new RawUpstream());
    log.headsPort = upstream.port();
    String head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n";
    String part = "the first 31 bytes of a message";
    upstream.enqueue(RawUpstream.resetMidBody(head, part, log.headsRead))
        .enqueue(RawUpstream.resetMidBody(head, part, log.headsRead))
        .enqueue(RawUpstream.ok("recovered"));
    startRegistry(client);
    subscribeFaulty(upstream.url("/feed"));

    assertRecovered();
    assertBackedOff(upstream.awaitArrivals(3));
    finish("reset mid-body", 2);
  }

  @Test
  void aBodyThatTricklesIsCutOffByTheCallTimeout() throws Exception {
    TimedUpstream upstream = closeLater(TimedUpstream.start());
    MockResponse trickle = new MockResponse.Builder()
        .body("0123456789")
        .throttleBody(1, 1, TimeUnit.SECONDS)
        .build();
    upstream.enqueue(trickle).enqueue(trickle).enqueue("recovered");
    startRegistry(null);
    subscribeFaulty(upstream.url("/feed"));

    assertRecovered();
    List<Long> attempts = nanos(upstream.awaitArrivals(3));
    assertBackedOff(attempts);
    for (int i = 1; i < 3; i++) {
      long gap = TimeUnit.NANOSECONDS.toMillis(attempts.get(i) - attempts.get(i - 1));
      assertTrue(gap >= CALL_TIMEOUT.toMillis(), "attempt " + i + " after " + gap + " ms");
    }
    finish("body trickling 1 byte/s", 2);
  }

  @Test
  void aBodyOverTheCapIsNotDeliveredWithOrWithoutAContentLength() throws Exception {
    TimedUpstream upstream = closeLater(TimedUpstream.start());
    String big = "x".repeat((int) MAX_BODY_BYTES + 1);
    upstream
        .enqueue(new MockResponse.Builder().body(big).build())
        .enqueue(new MockResponse.Builder().chunkedBody(new Buffer().writeUtf8(big), 8192).build())
        .enqueue("recovered");
    startRegistry(null);
    subscribeFaulty(upstream.url("/feed"));

    assertRecovered();
    assertBackedOff(nanos(upstream.awaitArrivals(3)));
    finish("body over the size cap", 2);
  }

  @Test
  void aMalformedChunkSizeDeliversNothingAndRecovers() throws Exception {
    RawUpstream upstream = closeLater(new RawUpstream());
    String badChunk =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n";
    upstream.enqueue(RawUpstream.bytes(badChunk)).enqueue(RawUpstream.bytes(badChunk))
        .enqueue(RawUpstream.ok("recovered"));
    startRegistry(null);
    subscribeFaulty(upstream.url("/feed"));

    assertRecovered();
    assertBackedOff(upstream.awaitArrivals(3));
    finish("bad chunked encoding", 2);
  }

  @Test
  void anUnresolvableHostBacksOffAndRecoversOnceItResolves() throws Exception {
    TimedUpstream upstream = closeLater(TimedUpstream.start());
    upstream.enqueue("recovered");
    AtomicBoolean resolvable = new AtomicBoolean();
    CallLog log = new CallLog();
    OkHttpClient client = testClient(log, builder -> builder.dns(hostname -> {
      boolean known = hostname.equals("localhost")
          || (hostname.equals("upstream.invalid") && resolvable.get());
      if (known) {
        return List.of(InetAddress.getByAddress(hostname, new byte[] {127, 0, 0, 1}));
      }
      throw new UnknownHostException(hostname + ": no such host (test resolver)");
    }));
    startRegistry(client);
    subscribeFaulty("http://upstream.invalid:" + upstream.port() + "/feed");

    Predicate<IOException> unknownHost = e -> e instanceof UnknownHostException;
    Await.until("two failed lookups", () -> log.failuresAt(upstream.port(), unknownHost) >= 2);
    int injected = log.failuresAt(upstream.port(), unknownHost);
    List<Long> attempts = log.attemptsAt(upstream.port()).subList(0, injected);
    assertEquals(0, upstream.requestCount(), "a request reached the upstream unresolved");
    resolvable.set(true);

    assertRecovered();
    assertBackedOff(attempts);
    finish("unresolvable host (.invalid)", injected);
  }

  @Test
  void aTlsHandshakeWithAnUntrustedCertificateFailsAndRecoversWithATrustedOne() throws Exception {
    HeldCertificate trustedRoot = new HeldCertificate.Builder()
        .certificateAuthority(0).commonName("trusted test root").build();
    HeldCertificate strangerRoot = new HeldCertificate.Builder()
        .certificateAuthority(0).commonName("untrusted test root").build();
    HandshakeCertificates clientTrust = new HandshakeCertificates.Builder()
        .addTrustedCertificate(trustedRoot.certificate()).build();
    SwitchingKeyManager serverKeys = new SwitchingKeyManager(serverCertificates(strangerRoot));
    SSLContext serverTls = SSLContext.getInstance("TLS");
    serverTls.init(new KeyManager[] {serverKeys}, null, null);
    TimedUpstream upstream = closeLater(TimedUpstream.startHttps(serverTls.getSocketFactory()));
    upstream.enqueue("recovered");

    CallLog log = new CallLog();
    OkHttpClient client = testClient(log, builder ->
        builder.sslSocketFactory(clientTrust.sslSocketFactory(), clientTrust.trustManager()));
    startRegistry(client);
    int port = upstream.port();
    subscribeFaulty("https://127.0.0.1:" + port + "/feed");

    Predicate<IOException> tls = e -> e instanceof SSLException;
    Await.until("two failed handshakes", () -> log.failuresAt(port, tls) >= 2);
    int injected = log.failuresAt(port, tls);
    List<Long> attempts = log.attemptsAt(port).subList(0, injected);
    assertEquals(0, upstream.requestCount(), "a request got through an untrusted handshake");
    serverKeys.present(serverCertificates(trustedRoot));

    assertRecovered();
    assertBackedOff(attempts);
    finish("TLS handshake failure", injected);
  }

  /** A certificate for 127.0.0.1 signed by {@code root}, with its chain. */
  private static HandshakeCertificates serverCertificates(HeldCertificate root) {
    HeldCertificate server = new HeldCertificate.Builder()
        .commonName("127.0.0.1")
        .addSubjectAlternativeName("127.0.0.1")
        .signedBy(root)
        .build();
    return new HandshakeCertificates.Builder()
        .heldCertificate(server, root.certificate())
        .build();
  }

  /**
   * The server's key manager, which presents one certificate until told to present another, as
   * an upstream does when its operator replaces a bad certificate without a restart.
   */
  private static final class SwitchingKeyManager extends X509ExtendedKeyManager {
    private volatile X509KeyManager current;

    SwitchingKeyManager(HandshakeCertificates certificates) {
      present(certificates);
    }

    void present(HandshakeCertificates certificates) {
      current = certificates.keyManager();
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return current.getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return current.chooseClientAlias(keyType, issuers, socket);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return current.getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return current.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return current.getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return current.getPrivateKey(alias);
    }
  }

  // --- Refusals -------------------------------------------------------------------------------

  @Test
  void a503RetryAfterInSecondsIsWaitedOut() throws Exception {
    TimedUpstream upstream = closeLater(TimedUpstream.start());
    upstream
        .enqueue(new MockResponse.Builder().code(503).setHeader("Retry-After", "1").build())
        .enqueue("recovered");
    startRegistry(null);
    subscribeFaulty(upstream.url("/feed"));

    assertRecovered();
    assertRetriedAfterAtLeast(upstream, 1_000, "Retry-After: 1");
    finish("503 Retry-After: 1 (seconds)", 1);
  }

  @Test
  void a429RetryAfterAsAnHttpDateIsWaitedOut() throws Exception {
    long date = HttpDate.nowToTheSecond();
    TimedUpstream upstream = closeLater(TimedUpstream.start());
    upstream
        .enqueue(new MockResponse.Builder().code(429)
            .setHeader("Date", HttpDate.format(date))
            .setHeader("Retry-After", HttpDate.format(date + 2_000))
            .build())
        .enqueue("recovered");
    startRegistry(null);
    subscribeFaulty(upstream.url("/feed"));

    assertRecovered();
    assertRetriedAfterAtLeast(upstream, 2_000, "a Retry-After 2 s on");
    finish("429 Retry-After: HTTP date", 1);
  }

  @Test
  void aStormOf5xxAnswersSpacesTheRequestsAsTheBackoffGrowsToItsCap() throws Exception {
    TimedUpstream upstream = closeLater(TimedUpstream.start());
    int[] storm = {500, 502, 503, 504, 500, 500};
    for (int code : storm) {
      upstream.enqueue(new MockResponse.Builder().code(code).body("error " + code).build());
    }
    upstream.enqueue("recovered");
    startRegistry(null);
    subscribeFaulty(upstream.url("/feed"));

    assertRecovered();
    List<Long> attempts = nanos(upstream.awaitArrivals(storm.length + 1));
    assertBackedOff(attempts);
    PollTiming timing = new PollTiming(Duration.ZERO, INITIAL_BACKOFF, MAX_BACKOFF,
        Duration.ZERO, Duration.ZERO);
    long slack = TimeUnit.MILLISECONDS.toNanos(500);
    for (int failures = 1; failures <= storm.length; failures++) {
      long gap = attempts.get(failures) - attempts.get(failures - 1);
      assertTrue(gap <= timing.backoffNanos(failures) + slack, "after " + failures
          + " failures the next attempt came only " + TimeUnit.NANOSECONDS.toMillis(gap)
          + " ms later, past the backoff of " + timing.backoffNanos(failures) / 1_000_000 + " ms");
    }
    finish("5xx storm", storm.length);
  }

  /** Fails unless the second request reached {@code upstream} {@code millis} after the first. */
  private static void assertRetriedAfterAtLeast(TimedUpstream upstream, long millis, String asked) {
    List<Long> attempts = nanos(upstream.awaitArrivals(2));
    long gap = TimeUnit.NANOSECONDS.toMillis(attempts.get(1) - attempts.get(0));
    assertTrue(gap >= millis, "retried after " + gap + " ms, before " + asked);
  }

}
