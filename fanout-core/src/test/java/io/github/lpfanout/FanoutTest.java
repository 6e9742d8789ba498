package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.ScriptedUpstream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link Fanout#open} from the raw target to an admitted stream, with an in-process authorizer
 * whose decisions the test hands out, and a held long-poll upstream on loopback.
 */
class FanoutTest {
  private static final Duration QUIET = Duration.ofMillis(300);

  private final HeldAuthorizer authorizer = new HeldAuthorizer();
  private final ExecutorService writers = Executors.newCachedThreadPool();
  private ScriptedUpstream upstream;
  private PollerRegistry registry;
  private Fanout fanout;

  @BeforeEach
  void start() throws Exception {
    upstream = new ScriptedUpstream();
    registry = PollerRegistry.newBuilder().minPollGap(Duration.ZERO).build();
  }

  @AfterEach
  void stop() {
    if (fanout != null) {
      fanout.close();
    }
    registry.close();
    writers.shutdownNow();
    upstream.close();
    assertTrue(authorizer.requests.isEmpty(), "a request the test did not expect was authorized");
  }

  @Test
  void nothingIsPolledOrSubscribedBeforeTheAuthorizerDecides() throws Exception {
    fanout = fanout(authorizer).build();

    CompletableFuture<Admission> admission = fanout.open(request("/sse/" + upstream.url("/a")));
    Held held = authorizer.next();

    assertFalse(admission.isDone());
    assertNull(upstream.takeRequest(QUIET.toMillis()), "polled before the decision");
    assertEquals(0, registry.pollerCount());
    assertEquals(0, fanout.clientCount());

    held.decision.complete(AuthDecision.allow());

    assertInstanceOf(Admission.Admitted.class, admission.get(5, TimeUnit.SECONDS));
    assertEquals(1, registry.pollerCount());
    assertEquals(1, fanout.clientCount());
    assertNotNull(upstream.takeRequest(5000));
  }

  @Test
  void deniedClientGetsTheAuthorizersRefusalAndNothingIsPolled() throws Exception {
    fanout = fanout(authorizer).build();
    Refusal denial = new Refusal(401,
        Map.of("WWW-Authenticate", List.of("Bearer")), "log in".getBytes(StandardCharsets.UTF_8));

    CompletableFuture<Admission> admission = fanout.open(request("/bin/" + upstream.url("/a")));
    authorizer.next().decision.complete(AuthDecision.deny(denial));

    Admission.Refused refused =
        assertInstanceOf(Admission.Refused.class, admission.get(5, TimeUnit.SECONDS));
    assertSame(denial, refused.refusal());
    assertEquals(0, registry.pollerCount());
    assertEquals(0, fanout.clientCount());
    assertNull(upstream.takeRequest(QUIET.toMillis()));
  }

  @Test
  void listAuthorizedIsTheListSubscribed() throws Exception {
    fanout = fanout(authorizer).build();
    String a = upstream.url("/a");
    String upperA = a.replace("http://", "HTTP://");
    String b = upstream.url("/b?ids=1,2");
    StreamRequest request = request("/sse/" + upperA + "," + b + "," + a);

    CompletableFuture<Admission> admission = fanout.open(request);
    Held held = authorizer.next();
    assertEquals(List.of(upperA, b), held.request.urls());
    assertSame(request, held.request.request());
    held.decision.complete(AuthDecision.allow());

    ClientStream stream = admitted(admission);
    assertEquals(List.of(upperA, b), stream.urls().stream().map(UpstreamUrl::spelling).toList());
    assertEquals(2, registry.pollerCount());
    assertEquals(1, registry.subscriberCount(UpstreamUrl.of(a)));
    assertEquals(1, registry.subscriberCount(UpstreamUrl.of(b)));
  }

  @Test
  void admittedClientReceivesFramesInItsFormatWithItsSpelling() throws Exception {
    fanout = fanout(Authorizer.allowAll()).build();
    String spelling = upstream.url("/a").replace("http://", "HTTP://");

    ClientStream stream = admitted(fanout.open(request("/sse/" + spelling)));
    upstream.answer("/a", "line one\nline two");

    assertEquals(FrameEncoder.sse().contentType(), stream.contentType());
    assertEquals(FrameEncoder.sse().responseHeaders(), stream.responseHeaders());
    Message expected = new Message(UpstreamUrl.of(spelling).canonical(),
        "line one\nline two".getBytes(StandardCharsets.UTF_8), null)
        .withId(new MessageId(registry.run(), 1));
    assertArrayEquals(FrameEncoder.sse().encode(spelling, expected).toByteArray(), take(stream));
  }

  @Test
  void authorizerThatThrowsRefusesWith503AndPollsNothing() throws Exception {
    fanout = fanout(request -> {
      throw new IllegalStateException("authorizer bug, thrown on purpose by the test");
    }).build();

    Refusal refusal = refused(fanout.open(request("/sse/" + upstream.url("/a"))));

    assertEquals(503, refusal.status());
    assertEquals(0, registry.pollerCount());
  }

  @Test
  void authorizerWhoseStageFailsRefusesWith503AndPollsNothing() throws Exception {
    fanout = fanout(authorizer).build();

    CompletableFuture<Admission> admission = fanout.open(request("/sse/" + upstream.url("/a")));
    authorizer.next().decision.completeExceptionally(new IllegalStateException("on purpose"));

    assertEquals(503, refused(admission).status());
    assertEquals(0, registry.pollerCount());
    assertNull(upstream.takeRequest(QUIET.toMillis()));
  }

  @Test
  void authorizerWhoseStageCompletesWithNullRefusesWith503() throws Exception {
    fanout = fanout(authorizer).build();

    CompletableFuture<Admission> admission = fanout.open(request("/sse/" + upstream.url("/a")));
    authorizer.next().decision.complete(null);

    assertEquals(503, refused(admission).status());
    assertEquals(0, registry.pollerCount());
  }

  @Test
  void authorizerReturningNoStageRefusesWith503() throws Exception {
    fanout = fanout(request -> null).build();

    Refusal refusal = refused(fanout.open(request("/sse/" + upstream.url("/a"))));

    assertEquals(503, refusal.status());
  }

  @Test
  void badTargetIsRefusedWithoutAskingTheAuthorizer() throws Exception {
    fanout = fanout(authorizer).build();

    assertEquals(400, refused(fanout.open(request("/sse/ftp://a.example/x"))).status());
    assertEquals(400, refused(fanout.open(request("/sse/"))).status());
    assertEquals(404, refused(fanout.open(request("/ws/" + upstream.url("/a")))).status());
    assertTrue(authorizer.requests.isEmpty());
    assertEquals(0, registry.pollerCount());
  }

  @Test
  void urlThePolicyRefusesIs403WithoutAskingTheAuthorizer() throws Exception {
    fanout = fanout(authorizer).build();

    Refusal refusal = refused(fanout.open(
        request("/sse/" + upstream.url("/a") + ",http://169.254.169.254/latest/meta-data/")));

    assertEquals(403, refusal.status());
    assertTrue(refusal.bodyText().startsWith("URL 2 "), refusal.bodyText());
    assertTrue(authorizer.requests.isEmpty());
    assertEquals(0, registry.pollerCount());
  }

  @Test
  void clientsBeyondTheLimitAreRefusedWith503UntilOneLeaves() throws Exception {
    fanout = fanout(Authorizer.allowAll()).maxClients(1).build();
    ClientStream first = admitted(fanout.open(request("/sse/" + upstream.url("/a"))));

    assertEquals(503, refused(fanout.open(request("/sse/" + upstream.url("/b")))).status());
    assertEquals(1, registry.pollerCount());

    first.close();
    admitted(fanout.open(request("/sse/" + upstream.url("/b"))));
    assertEquals(1, fanout.clientCount());
  }

  @Test
  void clientBeyondTheLimitIsRefusedWithoutAskingTheAuthorizer() throws Exception {
    fanout = fanout(authorizer).maxClients(1).build();
    CompletableFuture<Admission> first = fanout.open(request("/sse/" + upstream.url("/a")));
    authorizer.next().decision.complete(AuthDecision.allow());
    admitted(first);

    assertEquals(503, refused(fanout.open(request("/sse/" + upstream.url("/b")))).status());
    assertTrue(authorizer.requests.isEmpty(), "asked the authorizer for a client over the limit");
  }

  @Test
  void clientsAdmittedTogetherBeyondTheLimitAreRefusedAfterTheDecision() throws Exception {
    fanout = fanout(authorizer).maxClients(1).build();
    CompletableFuture<Admission> first = fanout.open(request("/sse/" + upstream.url("/a")));
    CompletableFuture<Admission> second = fanout.open(request("/sse/" + upstream.url("/b")));
    Held firstHeld = authorizer.next();
    Held secondHeld = authorizer.next();

    firstHeld.decision.complete(AuthDecision.allow());
    secondHeld.decision.complete(AuthDecision.allow());

    admitted(first);
    assertEquals(503, refused(second).status());
    assertEquals(1, registry.pollerCount());
    assertEquals(0, registry.subscriberCount(UpstreamUrl.of(upstream.url("/b"))));
    assertEquals(1, fanout.clientCount());
  }

  @Test
  void closedFanoutRefusesWith503WithoutAskingTheAuthorizer() throws Exception {
    fanout = fanout(authorizer).build();
    fanout.close();

    Refusal refusal = refused(fanout.open(request("/sse/" + upstream.url("/a"))));

    assertEquals(503, refusal.status());
    assertTrue(authorizer.requests.isEmpty());
    assertEquals(0, registry.pollerCount());
  }

  @Test
  void clientAdmittedAfterCloseIsRefusedWith503() throws Exception {
    fanout = fanout(authorizer).build();
    CompletableFuture<Admission> admission = fanout.open(request("/sse/" + upstream.url("/a")));
    Held held = authorizer.next();

    fanout.close();
    held.decision.complete(AuthDecision.allow());

    assertEquals(503, refused(admission).status());
    assertEquals(0, registry.pollerCount());
    assertEquals(0, fanout.clientCount());
    assertNull(upstream.takeRequest(QUIET.toMillis()));
  }

  @Test
  void closedStreamLeavesTheRegistry() throws Exception {
    fanout = fanout(Authorizer.allowAll()).build();
    ClientStream stream = admitted(fanout.open(request("/bin/" + upstream.url("/a"))));
    assertNotNull(upstream.takeRequest(5000));

    stream.close();

    assertEquals(0, registry.pollerCount());
    assertEquals(0, fanout.clientCount());
    assertNull(upstream.takeRequest(QUIET.toMillis()), "polled after the client left");
  }

  @Test
  void idleStreamGetsHeartbeats() throws Exception {
    fanout = fanout(Authorizer.allowAll()).heartbeatInterval(Duration.ofMillis(50)).build();
    ClientStream stream = admitted(fanout.open(request("/bin/" + upstream.url("/a"))));

    assertArrayEquals(FrameEncoder.binary().heartbeat(), take(stream));
    assertArrayEquals(FrameEncoder.binary().heartbeat(), take(stream));
  }

  @Test
  void closeLetsWritersDrainWhatIsQueuedThenEndsTheirStreams() throws Exception {
    fanout = fanout(Authorizer.allowAll()).shutdownGrace(Duration.ofSeconds(5)).build();
    ClientStream stream = admitted(fanout.open(request("/bin/" + upstream.url("/a"))));
    upstream.answer("/a", "queued before close");
    Await.until("the frame queued", () -> stream.pendingBytes() > 0);
    BlockingQueue<String> written = new LinkedBlockingQueue<>();
    Future<?> writer = writers.submit(() -> {
      Await.until("close started", registry::isClosed);
      for (Frame frame = stream.take(); frame != null; frame = stream.take()) {
        written.add(new String(frame.toByteArray(), StandardCharsets.UTF_8));
      }
      stream.close();
      return null;
    });

    long start = System.nanoTime();
    fanout.close();
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    writer.get(5, TimeUnit.SECONDS);
    assertTrue(written.poll().endsWith("queued before close"));
    assertTrue(written.isEmpty());
    assertTrue(tookMillis < 4000, "close waited for the whole grace: " + tookMillis + " ms");
    assertEquals(0, fanout.clientCount());
  }

  @Test
  void closeCutsOffAWriterThatDoesNotDrainWithinTheGrace() throws Exception {
    fanout = fanout(Authorizer.allowAll()).shutdownGrace(Duration.ofMillis(200)).build();
    ClientStream stream = admitted(fanout.open(request("/bin/" + upstream.url("/a"))));
    AtomicInteger aborts = new AtomicInteger();
    stream.onAbort(aborts::incrementAndGet);
    upstream.answer("/a", "never written");
    Await.until("the frame queued", () -> stream.pendingBytes() > 0);

    fanout.close();

    assertEquals(1, aborts.get());
    assertTrue(stream.isFinished());
    assertNull(stream.poll());
    assertEquals(0, fanout.clientCount());
  }

  @Test
  void closeClosesTheRegistryAndAnAutoCloseableAuthorizer() throws Exception {
    fanout = fanout(authorizer).build();

    fanout.close();

    assertTrue(registry.isClosed());
    assertEquals(1, authorizer.closes.get());
  }

  private Fanout.Builder fanout(Authorizer authorizer) {
    return Fanout.newBuilder()
        .registry(registry)
        .authorizer(authorizer)
        .shutdownGrace(Duration.ofMillis(100));
  }

  private static StreamRequest request(String target) {
    return StreamRequest.of(target, Map.of("Cookie", List.of("session=1")), "127.0.0.1");
  }

  /** The admitted stream, past its first frame, which is a heartbeat. */
  private static ClientStream admitted(CompletableFuture<Admission> admission) throws Exception {
    ClientStream stream =
        assertInstanceOf(Admission.Admitted.class, admission.get(5, TimeUnit.SECONDS)).stream();
    assertArrayEquals(
        stream.encoder().heartbeat(), stream.poll().toByteArray(), "the stream's first frame");
    return stream;
  }

  private static Refusal refused(CompletableFuture<Admission> admission) throws Exception {
    return assertInstanceOf(Admission.Refused.class, admission.get(5, TimeUnit.SECONDS))
        .refusal();
  }

  private byte[] take(ClientStream stream) throws Exception {
    return writers.submit(stream::take).get(5, TimeUnit.SECONDS).toByteArray();
  }

  /** One authorization the test decides on. */
  private record Held(AuthRequest request, CompletableFuture<AuthDecision> decision) {}

  /** An in-process authorizer that holds every decision until the test completes it. */
  private static final class HeldAuthorizer implements Authorizer, AutoCloseable {
    final BlockingQueue<Held> requests = new LinkedBlockingQueue<>();
    final AtomicInteger closes = new AtomicInteger();

    @Override
    public CompletionStage<AuthDecision> authorize(AuthRequest request) {
      Held held = new Held(request, new CompletableFuture<>());
      requests.add(held);
      return held.decision;
    }

    /** The next authorization asked for, failing if none is within 5 seconds. */
    Held next() throws InterruptedException {
      Held held = requests.poll(5, TimeUnit.SECONDS);
      assertNotNull(held, "the authorizer was not asked");
      return held;
    }

    @Override
    public void close() {
      closes.incrementAndGet();
    }
  }
}
