package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.RecordingSubscriber;
import io.github.lpfanout.testing.RecordingSubscriber.Delivery;
import io.github.lpfanout.testing.ScriptedUpstream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The poller registry against a real long-polling upstream on loopback: one request at a time per
 * URL, every response to every subscriber once and in order, backoff on failure, and nothing sent
 * upstream once nobody listens.
 */
class PollerRegistryTest {
  private static final Duration QUIET = Duration.ofMillis(500);

  private ScriptedUpstream upstream;
  private PollerRegistry registry;
  private final List<RecordingSubscriber> recorders = new ArrayList<>();
  private final List<AutoCloseable> cleanups = new ArrayList<>();

  @BeforeEach
  void startUpstream() throws Exception {
    upstream = new ScriptedUpstream();
  }

  @AfterEach
  void closeAndCheckNothingUnexpectedArrived() throws Exception {
    if (registry != null) {
      registry.close();
    }
    for (AutoCloseable cleanup : cleanups) {
      cleanup.close();
    }
    upstream.close();
    for (RecordingSubscriber recorder : recorders) {
      recorder.assertNoMoreDeliveries();
    }
  }

  @Test
  void urlsWithOneCanonicalFormShareOnePoller() {
    registry = fastRegistry().build();
    UpstreamUrl lower = url("/feed");
    UpstreamUrl upper = UpstreamUrl.of(lower.spelling().replace("http://", "HTTP://"));

    registry.subscribe(List.of(lower), recorder("a"));
    registry.subscribe(List.of(upper), recorder("b"));
    registry.subscribe(List.of(url("/other")), recorder("c"));

    assertEquals(2, registry.pollerCount());
    assertEquals(2, registry.subscriberCount(lower));
    assertEquals(2, registry.subscriberCount(upper));
    assertEquals(1, registry.subscriberCount(url("/other")));
  }

  @Test
  void oneSubscriptionNamingAUrlTwiceHoldsItOnceWithTheFirstSpelling() throws Exception {
    registry = fastRegistry().build();
    UpstreamUrl lower = url("/feed");
    UpstreamUrl upper = UpstreamUrl.of(lower.spelling().replace("http://", "HTTP://"));
    RecordingSubscriber subscriber = recorder("a");

    Subscription subscription = registry.subscribe(List.of(upper, lower), subscriber);
    upstream.answer("/feed", "once");

    assertEquals(List.of(upper), subscription.urls());
    assertEquals(1, registry.subscriberCount(lower));
    subscriber.assertDelivery(upper.spelling(), "once");
  }

  @Test
  void pollerSendsAGetForTheUrlWithItsQuery() throws Exception {
    registry = fastRegistry().build();

    registry.subscribe(List.of(url("/feed?since=3&ids=1,2")), recorder("a"));

    RecordedRequest request = upstream.takeRequest(5000);
    assertNotNull(request);
    assertEquals("GET", request.getMethod());
    assertEquals("/feed?since=3&ids=1,2", request.getTarget());
  }

  @Test
  void fiftySubscribersGetEveryResponseOnceInOrderFromOneRequestAtATime() throws Exception {
    registry = fastRegistry().build();
    UpstreamUrl lower = url("/feed");
    UpstreamUrl upper = UpstreamUrl.of(lower.spelling().replace("http://", "HTTP://"));
    List<RecordingSubscriber> subscribers = new ArrayList<>();
    ExecutorService threads = Executors.newFixedThreadPool(10);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> joins = new ArrayList<>();
    try {
      for (int i = 0; i < 50; i++) {
        RecordingSubscriber subscriber = recorder("subscriber " + i);
        subscribers.add(subscriber);
        UpstreamUrl spelling = i % 2 == 0 ? lower : upper;
        joins.add(threads.submit(() -> {
          start.await();
          return registry.subscribe(List.of(spelling), subscriber);
        }));
      }
      start.countDown();
      for (Future<?> join : joins) {
        join.get(5, TimeUnit.SECONDS);
      }
    } finally {
      threads.shutdownNow();
    }
    assertEquals(1, registry.pollerCount());
    assertEquals(50, registry.subscriberCount(lower));

    for (int i = 1; i <= 20; i++) {
      upstream.answer("/feed", "message " + i);
    }

    for (int i = 1; i <= 20; i++) {
      Message shared = null;
      for (int s = 0; s < subscribers.size(); s++) {
        Delivery delivery = subscribers.get(s).takeDelivery();
        assertEquals("message " + i, delivery.body());
        assertEquals((s % 2 == 0 ? lower : upper).spelling(), delivery.url().spelling());
        if (shared == null) {
          shared = delivery.message();
        }
        assertSame(shared, delivery.message(), "one message object for every subscriber");
      }
    }
    Await.until("the 21st request", () -> upstream.requestCount("/feed") == 21);
    assertEquals(1, upstream.maxInFlight("/feed"));
  }

  @Test
  void churningSubscribersNeverStartASecondRequest() throws Exception {
    registry = fastRegistry().build();
    UpstreamUrl feed = url("/feed");
    RecordingSubscriber steady = recorder("steady");
    registry.subscribe(List.of(feed), steady);
    AtomicBoolean churning = new AtomicBoolean(true);
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try {
      for (int t = 0; t < 8; t++) {
        threads.submit(() -> {
          while (churning.get()) {
            registry.subscribe(List.of(feed), (url, message) -> { }).close();
          }
        });
      }
      for (int i = 1; i <= 30; i++) {
        upstream.answer("/feed", "message " + i);
      }

      for (int i = 1; i <= 30; i++) {
        steady.assertDelivery(feed.spelling(), "message " + i);
      }
    } finally {
      churning.set(false);
      threads.shutdown();
      assertTrue(threads.awaitTermination(5, TimeUnit.SECONDS));
    }
    assertEquals(1, upstream.maxInFlight("/feed"));
    assertEquals(1, registry.subscriberCount(feed));
  }

  @Test
  void responseCarriesItsContentTypeAndCanonicalUrl() throws Exception {
    registry = fastRegistry().build();
    UpstreamUrl upper = UpstreamUrl.of(url("/feed").spelling().replace("http://", "HTTP://"));
    RecordingSubscriber subscriber = recorder("a");
    registry.subscribe(List.of(upper), subscriber);

    upstream.answer("/feed", new MockResponse.Builder()
        .setHeader("Content-Type", "text/plain; charset=ISO-8859-1")
        .body("x")
        .build());

    Delivery delivery = subscriber.takeDelivery();
    assertEquals("text/plain; charset=ISO-8859-1", delivery.message().contentType());
    assertEquals(upper.canonical(), delivery.message().canonicalUrl());
  }

  @Test
  void noContentIsDeliveredAsAnEmptyMessage() throws Exception {
    registry = fastRegistry().build();
    RecordingSubscriber subscriber = recorder("a");
    registry.subscribe(List.of(url("/feed")), subscriber);

    upstream.answer("/feed", new MockResponse.Builder().code(204).build());

    assertEquals("", subscriber.takeDelivery().body());
  }

  @Test
  void requestsStartNoSoonerThanTheMinimumGapApart() throws Exception {
    registry = fastRegistry().minPollGap(Duration.ofMillis(150)).build();
    registry.subscribe(List.of(url("/feed")), recorder("a"));
    for (int i = 1; i <= 4; i++) {
      upstream.answer("/feed", "message " + i);
    }

    List<Long> starts = requestStarts(5);

    // Seen from the upstream, arrivals jitter (the first one also waits for a connect); without
    // the gap these requests would come a few milliseconds apart.
    for (int i = 1; i < starts.size(); i++) {
      long gapMillis = TimeUnit.NANOSECONDS.toMillis(starts.get(i) - starts.get(i - 1));
      assertTrue(gapMillis >= 100, "request " + (i + 1) + " only " + gapMillis + " ms after");
    }
    for (int i = 1; i <= 4; i++) {
      recorders.get(0).assertDelivery(url("/feed").spelling(), "message " + i);
    }
  }

  @Test
  void failuresDeliverNothingAndAreRetriedWithGrowingBackoffThenRecover() throws Exception {
    registry = fastRegistry()
        .initialBackoff(Duration.ofMillis(50))
        .maxBackoff(Duration.ofSeconds(2))
        .build();
    RecordingSubscriber subscriber = recorder("a");
    registry.subscribe(List.of(url("/feed")), subscriber);
    upstream.answer("/feed", new MockResponse.Builder().code(500).body("broken").build());
    upstream.answer("/feed", new MockResponse.Builder().code(503).body("busy").build());
    // Dropped after the headers: a connection dropped before them is retried at once on a new
    // one, as OkHttp retries a stale pooled connection, and would take the next answer.
    upstream.answer("/feed", new MockResponse.Builder()
        .body("never seen ".repeat(10_000))
        .onResponseBody(SocketEffect.ShutdownConnection.INSTANCE)
        .build());
    upstream.answer("/feed", new MockResponse.Builder().code(502).body("bad gateway").build());
    upstream.answer("/feed", "first good");
    upstream.answer("/feed", new MockResponse.Builder().code(404).body("gone").build());
    upstream.answer("/feed", "second good");

    List<Long> starts = requestStarts(8);

    subscriber.assertDelivery(url("/feed").spelling(), "first good");
    subscriber.assertDelivery(url("/feed").spelling(), "second good");
    assertTrue(gapMillis(starts, 1) >= 20, "after 1 failure: " + gapMillis(starts, 1));
    assertTrue(gapMillis(starts, 2) >= 45, "after 2 failures: " + gapMillis(starts, 2));
    assertTrue(gapMillis(starts, 3) >= 95, "after 3 failures: " + gapMillis(starts, 3));
    assertTrue(gapMillis(starts, 4) >= 195, "after 4 failures: " + gapMillis(starts, 4));
    assertTrue(gapMillis(starts, 6) < 300,
        "a success resets the backoff, else this wait would be 400 ms or more: "
            + gapMillis(starts, 6));
  }

  @Test
  void bodyCutShortIsAFailureAndNothingOfItIsDelivered() throws Exception {
    registry = fastRegistry().initialBackoff(Duration.ofMillis(50)).build();
    RecordingSubscriber subscriber = recorder("a");
    registry.subscribe(List.of(url("/feed")), subscriber);

    upstream.answer("/feed", new MockResponse.Builder()
        .body("0123456789".repeat(10_000))
        .onResponseBody(SocketEffect.ShutdownConnection.INSTANCE)
        .build());
    upstream.answer("/feed", "whole");

    subscriber.assertDelivery(url("/feed").spelling(), "whole");
  }

  @Test
  void redirectIsAFailureAndIsNotFollowed() throws Exception {
    registry = fastRegistry().initialBackoff(Duration.ofMillis(50)).build();
    RecordingSubscriber subscriber = recorder("a");
    registry.subscribe(List.of(url("/feed")), subscriber);

    upstream.answer("/feed", new MockResponse.Builder()
        .code(302)
        .setHeader("Location", upstream.url("/elsewhere"))
        .build());
    upstream.answer("/feed", "after");

    subscriber.assertDelivery(url("/feed").spelling(), "after");
    assertEquals(0, upstream.requestCount("/elsewhere"));
  }

  @Test
  void upstreamSlowerThanTheReadTimeoutIsRetried() throws Exception {
    registry = fastRegistry()
        .readTimeout(Duration.ofMillis(300))
        .initialBackoff(Duration.ofMillis(50))
        .build();
    RecordingSubscriber subscriber = recorder("a");
    registry.subscribe(List.of(url("/feed")), subscriber);

    upstream.answer("/feed", new MockResponse.Builder()
        .body("too late")
        .headersDelay(1500, TimeUnit.MILLISECONDS)
        .build());
    upstream.answer("/feed", "in time");

    subscriber.assertDelivery(url("/feed").spelling(), "in time");
  }

  @Test
  void bodyOverTheCapDeliversNothing() throws Exception {
    registry = fastRegistry().maxBodyBytes(10).initialBackoff(Duration.ofMillis(50)).build();
    RecordingSubscriber subscriber = recorder("a");
    registry.subscribe(List.of(url("/feed")), subscriber);

    upstream.answer("/feed", "eleven byte");
    upstream.answer("/feed", new MockResponse.Builder().chunkedBody("chunked and long", 3).build());
    upstream.answer("/feed", "ten bytes!");

    subscriber.assertDelivery(url("/feed").spelling(), "ten bytes!");
    Await.until("the poller polls on", () -> upstream.requestCount("/feed") == 4);
  }

  @Test
  void largestBodyCapStillDelivers() throws Exception {
    registry = fastRegistry().maxBodyBytes(Long.MAX_VALUE).build();
    RecordingSubscriber subscriber = recorder("a");
    registry.subscribe(List.of(url("/feed")), subscriber);

    upstream.answer("/feed", "uncapped");

    subscriber.assertDelivery(url("/feed").spelling(), "uncapped");
  }

  @Test
  void subscriberThatThrowsKeepsItsSubscriptionAndOthersStillReceive() throws Exception {
    registry = fastRegistry().build();
    RecordingSubscriber before = recorder("before");
    RecordingSubscriber after = recorder("after");
    List<String> thrown = new ArrayList<>();
    registry.subscribe(List.of(url("/feed")), before);
    registry.subscribe(List.of(url("/feed")), (url, message) -> {
      synchronized (thrown) {
        thrown.add(new String(message.body()));
      }
      throw new IllegalStateException("subscriber bug, thrown on purpose by the test");
    });
    registry.subscribe(List.of(url("/feed")), after);

    upstream.answer("/feed", "one");
    upstream.answer("/feed", "two");

    for (String body : List.of("one", "two")) {
      before.assertDelivery(url("/feed").spelling(), body);
      after.assertDelivery(url("/feed").spelling(), body);
    }
    Await.until("the thrower called twice", () -> {
      synchronized (thrown) {
        return thrown.size() == 2;
      }
    });
    synchronized (thrown) {
      assertEquals(List.of("one", "two"), thrown);
    }
  }

  @Test
  void closedSubscriptionReceivesNothingMore() throws Exception {
    registry = fastRegistry().build();
    RecordingSubscriber leaving = recorder("leaving");
    RecordingSubscriber staying = recorder("staying");
    Subscription subscription = registry.subscribe(List.of(url("/feed")), leaving);
    registry.subscribe(List.of(url("/feed")), staying);
    upstream.answer("/feed", "both");
    leaving.assertDelivery(url("/feed").spelling(), "both");
    staying.assertDelivery(url("/feed").spelling(), "both");

    subscription.close();
    upstream.answer("/feed", "staying only");

    staying.assertDelivery(url("/feed").spelling(), "staying only");
    assertEquals(1, registry.subscriberCount(url("/feed")));
  }

  @Test
  void closingASubscriptionLeavesAllItsUrlsAtOnce() {
    registry = fastRegistry().build();
    Subscription both = registry.subscribe(List.of(url("/a"), url("/b")), recorder("both"));
    registry.subscribe(List.of(url("/a")), recorder("a only"));
    assertEquals(2, registry.pollerCount());

    both.close();

    assertEquals(1, registry.pollerCount());
    assertEquals(1, registry.subscriberCount(url("/a")));
    assertEquals(0, registry.subscriberCount(url("/b")));
    both.close();
    assertEquals(1, registry.subscriberCount(url("/a")));
  }

  @Test
  void lastSubscriberLeavingCancelsThePoll() throws Exception {
    OkHttpClient client = HttpClients.create("test-poll", Duration.ofMinutes(2), 8);
    cleanups.add(() -> HttpClients.shutdown(client));
    registry = fastRegistry().client(client).build();
    Subscription first = registry.subscribe(List.of(url("/feed")), recorder("first"));
    Subscription last = registry.subscribe(List.of(url("/feed")), recorder("last"));
    assertNotNull(upstream.takeRequest(5000));
    Await.until("the poll in flight", () -> client.dispatcher().runningCallsCount() == 1);

    first.close();
    assertEquals(1, client.dispatcher().runningCallsCount(), "one subscriber left; still polling");
    last.close();

    assertEquals(0, registry.pollerCount());
    Await.until("the held call cancelled", () -> client.dispatcher().runningCallsCount() == 0);
    assertNull(upstream.takeRequest(QUIET.toMillis()), "no further request upstream");
  }

  @Test
  void lastSubscriberLeavingBetweenPollsCancelsTheNextOne() throws Exception {
    registry = fastRegistry().minPollGap(Duration.ofMillis(300)).build();
    RecordingSubscriber subscriber = recorder("a");
    Subscription subscription = registry.subscribe(List.of(url("/feed")), subscriber);
    upstream.answer("/feed", "only");
    assertNotNull(upstream.takeRequest(5000));
    subscriber.assertDelivery(url("/feed").spelling(), "only");

    subscription.close();

    assertNull(upstream.takeRequest(600), "no request after the last subscriber left");
  }

  @Test
  void twentyUrlsOnOneHostAreAllInFlightAtOnce() throws Exception {
    registry = PollerRegistry.newBuilder().build();

    for (int i = 0; i < 20; i++) {
      registry.subscribe(List.of(url("/feed/" + i)), recorder("subscriber " + i));
    }

    Await.until("20 requests held at once", () -> upstream.inFlight() == 20);
  }

  @Test
  void closeStopsEveryPollerAndRefusesNewSubscribers() throws Exception {
    OkHttpClient client = HttpClients.create("test-poll", Duration.ofMinutes(2), 8);
    cleanups.add(() -> HttpClients.shutdown(client));
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    cleanups.add(scheduler::shutdownNow);
    registry = fastRegistry().client(client).scheduler(scheduler).build();
    Subscription subscription =
        registry.subscribe(List.of(url("/a"), url("/b"), url("/c")), recorder("a"));
    Await.until("three polls in flight", () -> upstream.inFlight() == 3);

    registry.close();

    assertTrue(registry.isClosed());
    assertEquals(0, registry.pollerCount());
    Await.until("every call cancelled", () -> client.dispatcher().runningCallsCount() == 0);
    upstream.answer("/a", "after close");
    assertThrows(IllegalStateException.class,
        () -> registry.subscribe(List.of(url("/a")), recorder("late")));
    subscription.close();
    drainRequests(3);
    assertNull(upstream.takeRequest(QUIET.toMillis()), "no request after close");
    assertFalse(scheduler.isShutdown(), "a scheduler passed in is the caller's");
    assertFalse(client.dispatcher().executorService().isShutdown(), "a client passed in too");
  }

  @Test
  void closeEndsTheThreadsTheRegistryMadeItself() throws Exception {
    Set<Thread> before = registryThreads();
    registry = fastRegistry().build();
    RecordingSubscriber subscriber = recorder("a");
    registry.subscribe(List.of(url("/a"), url("/b")), subscriber);
    upstream.answer("/a", "schedules the next poll");
    subscriber.assertDelivery(url("/a").spelling(), "schedules the next poll");
    Await.until("two polls in flight", () -> upstream.inFlight() == 2);
    Set<Thread> made = registryThreads();
    made.removeAll(before);
    // From Java 21 the calls run on virtual threads, which the thread list does not show.
    int callThreads = Runtime.version().feature() >= 21 ? 0 : 2;
    assertTrue(made.size() >= 1 + callThreads,
        "a scheduler thread and " + callThreads + " call threads: " + made);

    registry.close();

    try {
      Await.until("the registry's threads ended", () -> made.stream().noneMatch(Thread::isAlive));
    } catch (AssertionError late) {
      List<String> alive = made.stream().filter(Thread::isAlive).map(Thread::getName).toList();
      throw new AssertionError(late.getMessage() + "; still alive: " + alive, late);
    }
  }

  private PollerRegistry.Builder fastRegistry() {
    return PollerRegistry.newBuilder()
        .minPollGap(Duration.ZERO)
        .initialBackoff(Duration.ofMillis(50))
        .maxBackoff(Duration.ofMillis(200));
  }

  private UpstreamUrl url(String path) {
    return UpstreamUrl.of(upstream.url(path));
  }

  private RecordingSubscriber recorder(String name) {
    RecordingSubscriber recorder = new RecordingSubscriber(name);
    recorders.add(recorder);
    return recorder;
  }

  /** Takes {@code count} requests as they arrive and returns when each one did. */
  private List<Long> requestStarts(int count) throws InterruptedException {
    List<Long> starts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      assertNotNull(upstream.takeRequest(5000), "request " + (i + 1));
      starts.add(System.nanoTime());
    }
    return starts;
  }

  private void drainRequests(int count) throws InterruptedException {
    for (int i = 0; i < count; i++) {
      assertNotNull(upstream.takeRequest(5000));
    }
  }

  private static long gapMillis(List<Long> starts, int afterRequest) {
    return TimeUnit.NANOSECONDS.toMillis(starts.get(afterRequest) - starts.get(afterRequest - 1));
  }

  /**
   * The library's own threads, and the threads running a call to this test's upstream, which OkHttp
   * renames for the call's length. Not OkHttp's shared task threads: they take a name with the
   * upstream's address while they connect to it, and outlive any one client by a minute.
   */
  private Set<Thread> registryThreads() {
    String callingUpstream = ":" + upstream.port() + "/";
    return Thread.getAllStackTraces().entrySet().stream()
        .filter(thread -> {
          String name = thread.getKey().getName();
          return name.startsWith("fanout-")
              || (name.startsWith("OkHttp ") && name.contains(callingUpstream)
                  && runsAsyncCall(thread.getValue()));
        })
        .map(Map.Entry::getKey)
        .collect(Collectors.toSet());
  }

  private static boolean runsAsyncCall(StackTraceElement[] stack) {
    return Arrays.stream(stack)
        .anyMatch(frame -> frame.getClassName().endsWith("RealCall$AsyncCall"));
  }
}
