package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.RecordingSubscriber;
import io.github.lpfanout.testing.RecordingSubscriber.Delivery;
import io.github.lpfanout.testing.ScriptedUpstream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Message ids, each URL's history, publishing and where a subscription starts, through a real
 * registry. Published URLs are push-fed, so nothing is polled unless a test polls on purpose.
 */
class HistoryAndResumeTest {
  private static final String PUSHED = "http://push.test/";
  private static final Duration QUIET = Duration.ofMillis(300);

  private final AtomicLong now = new AtomicLong();
  private final List<RecordingSubscriber> recorders = new ArrayList<>();
  private ScriptedUpstream upstream;
  private PollerRegistry registry;

  @BeforeEach
  void start() throws Exception {
    upstream = new ScriptedUpstream();
  }

  @AfterEach
  void stop() {
    if (registry != null) {
      registry.close();
    }
    upstream.close();
    for (RecordingSubscriber recorder : recorders) {
      recorder.assertNoMoreDeliveries();
    }
  }

  // --- Ids -----------------------------------------------------------------------------------

  @Test
  void idsCarryTheRegistrysRunAndIncreaseAcrossAllUrls() throws Exception {
    registry = registry(History.standard());
    RecordingSubscriber subscriber = recorder("a and b");
    registry.subscribe(List.of(url("a"), url("b")), subscriber);

    MessageId first = publish("a", "1");
    MessageId second = publish("b", "2");
    MessageId third = publish("a", "3");

    assertEquals(registry.run(), first.run());
    assertEquals(List.of(1L, 2L, 3L),
        List.of(first.sequence(), second.sequence(), third.sequence()));
    for (MessageId id : List.of(first, second, third)) {
      assertEquals(id, subscriber.takeDelivery().message().id());
    }
  }

  @Test
  void everyRegistryHasARunOfItsOwn() {
    registry = registry(History.standard());
    try (PollerRegistry other = registry(History.standard())) {
      assertNotEquals(registry.run(), other.run());
      assertTrue(registry.run().matches("[0-9a-z]{9,}"), registry.run());
    }
  }

  @Test
  void polledMessagesGetIdsOfTheSameSequence() throws Exception {
    registry = registry(History.standard());
    UpstreamUrl polled = UpstreamUrl.of(upstream.url("/feed"));
    RecordingSubscriber subscriber = recorder("both");
    registry.subscribe(List.of(polled, url("a")), subscriber);

    MessageId pushed = publish("a", "pushed");
    Delivery pushedDelivery = subscriber.takeDelivery();
    upstream.answer("/feed", "polled");
    Delivery polledDelivery = subscriber.takeDelivery();

    assertEquals(pushed, pushedDelivery.message().id());
    assertEquals("polled", polledDelivery.body());
    assertEquals(new MessageId(registry.run(), 2), polledDelivery.message().id());
  }

  @Test
  void messageIdsParseBackAndRefuseOtherText() {
    MessageId id = new MessageId("mj3k9x2a7q1f", 42);

    assertEquals("mj3k9x2a7q1f-42", id.toString());
    assertEquals(id, MessageId.parse(id.toString()));
    for (String bad : new String[] {null, "", "42", "-42", "run-", "run-0", "run--1", "RUN-1",
        "run-1x", "run-12345678901234567890", "r un-1", "run.1"}) {
      assertNull(MessageId.parse(bad), bad);
    }
  }

  // --- Publishing and push-fed URLs ----------------------------------------------------------

  @Test
  void publishedBodyReachesEverySubscriberUnderItsOwnSpellingAsOneMessage() throws Exception {
    registry = registry(History.standard());
    UpstreamUrl lower = url("a");
    UpstreamUrl upper = UpstreamUrl.of(lower.spelling().replace("http://push", "HTTP://PUSH"));
    RecordingSubscriber first = recorder("lower");
    RecordingSubscriber second = recorder("upper");
    registry.subscribe(List.of(lower), first);
    registry.subscribe(List.of(upper), second);

    registry.publish(upper, "news".getBytes(StandardCharsets.UTF_8), "text/plain");

    Delivery one = first.takeDelivery();
    Delivery two = second.takeDelivery();
    assertEquals(lower.spelling(), one.url().spelling());
    assertEquals(upper.spelling(), two.url().spelling());
    assertSame(one.message(), two.message());
    assertEquals("news", one.body());
    assertEquals("text/plain", one.message().contentType());
    assertEquals(lower.canonical(), one.message().canonicalUrl());
  }

  @Test
  void pushFedUrlIsNeverPolledAndHoldsNoPoller() throws Exception {
    registry = PollerRegistry.newBuilder()
        .minPollGap(Duration.ZERO)
        .pushFedPrefix(upstream.url("/push/").replace("http://", "HTTP://"))
        .build();
    UpstreamUrl pushed = UpstreamUrl.of(upstream.url("/push/a"));
    UpstreamUrl polled = UpstreamUrl.of(upstream.url("/pull"));
    RecordingSubscriber subscriber = recorder("both");
    registry.subscribe(List.of(pushed, polled), subscriber);

    assertTrue(registry.isPushFed(pushed));
    assertEquals(1, registry.pollerCount());
    assertEquals(1, registry.subscriberCount(pushed));
    registry.publish(pushed, "pushed".getBytes(StandardCharsets.UTF_8), null);
    subscriber.assertDelivery(pushed.spelling(), "pushed");
    assertEquals("/pull", upstream.takeRequest(5000).getUrl().encodedPath());
    assertNull(upstream.takeRequest(QUIET.toMillis()), "the push-fed URL was polled");
    assertEquals(0, upstream.requestCount("/push/a"));
  }

  @Test
  void pushFedPrefixMustBeAUrl() {
    assertThrows(IllegalArgumentException.class,
        () -> PollerRegistry.newBuilder().pushFedPrefix("push.test/"));
  }

  @Test
  void publishingABodyOverTheCapOrAfterCloseIsRefused() {
    registry = PollerRegistry.newBuilder().maxBodyBytes(4).build();

    assertThrows(IllegalArgumentException.class,
        () -> registry.publish(url("a"), new byte[5], null));
    registry.publish(url("a"), new byte[4], null);
    registry.close();
    assertThrows(IllegalStateException.class,
        () -> registry.publish(url("a"), new byte[1], null));
  }

  // --- Where a subscription starts -----------------------------------------------------------

  @Test
  void latestStartSendsTheLatestMessageOfEachUrlThatHasOneThenLiveOnes() throws Exception {
    registry = registry(History.standard());
    publish("a", "a1");
    publish("b", "b1");
    publish("a", "a2");
    RecordingSubscriber subscriber = recorder("late");

    registry.subscribe(List.of(url("a"), url("b"), url("c")), subscriber, StartFrom.latest());
    publish("c", "c1");

    subscriber.assertDelivery(url("b").spelling(), "b1");
    subscriber.assertDelivery(url("a").spelling(), "a2");
    subscriber.assertDelivery(url("c").spelling(), "c1");
  }

  @Test
  void liveStartSendsNothingFromBefore() throws Exception {
    registry = registry(History.standard());
    publish("a", "before");
    RecordingSubscriber subscriber = recorder("live");

    registry.subscribe(List.of(url("a")), subscriber);
    publish("a", "after");

    subscriber.assertDelivery(url("a").spelling(), "after");
  }

  @Test
  void afterStartSendsExactlyWhatCameAfterTheIdInIdOrderAcrossUrls() throws Exception {
    registry = registry(History.standard());
    MessageId seen = publish("a", "a1");
    publish("b", "b1");
    publish("a", "a2");
    publish("other", "not subscribed");
    publish("b", "b2");
    RecordingSubscriber subscriber = recorder("resuming");

    registry.subscribe(List.of(url("a"), url("b")), subscriber, StartFrom.after(seen.toString()));
    publish("a", "a3");

    for (String body : List.of("b1", "a2", "b2", "a3")) {
      assertEquals(body, subscriber.takeDelivery().body());
    }
  }

  @Test
  void afterTheNewestIdSendsNothingButWhatComesNext() throws Exception {
    registry = registry(History.standard());
    publish("a", "a1");
    MessageId newest = publish("a", "a2");
    RecordingSubscriber subscriber = recorder("up to date");

    registry.subscribe(List.of(url("a")), subscriber, StartFrom.after(newest.toString()));
    publish("a", "a3");

    subscriber.assertDelivery(url("a").spelling(), "a3");
  }

  @Test
  void afterAnIdOfAnotherRunOrNoIdAtAllSendsTheLatestOfEachUrl() throws Exception {
    registry = registry(History.standard());
    publish("a", "a1");
    publish("a", "a2");
    publish("b", "b1");
    String[] foreign = {"zzzzzzzz0000-1", "garbage", registry.run() + "-99"};

    for (String id : foreign) {
      RecordingSubscriber subscriber = recorder(id);
      Subscription subscription =
          registry.subscribe(List.of(url("a"), url("b")), subscriber, StartFrom.after(id));
      subscriber.assertDelivery(url("a").spelling(), "a2");
      subscriber.assertDelivery(url("b").spelling(), "b1");
      subscription.close();
    }
  }

  @Test
  void afterAnIdOlderThanTheHistorySendsTheLatestOfThatUrlAndExactlyTheRestElsewhere()
      throws Exception {
    registry = registry(History.newBuilder().maxMessages(2).build());
    MessageId seen = publish("a", "a1");
    publish("b", "b1");
    for (int i = 2; i <= 5; i++) {
      publish("a", "a" + i);
    }
    RecordingSubscriber subscriber = recorder("too old for a");

    registry.subscribe(List.of(url("a"), url("b")), subscriber, StartFrom.after(seen.toString()));

    subscriber.assertDelivery(url("b").spelling(), "b1");
    subscriber.assertDelivery(url("a").spelling(), "a5");
  }

  @Test
  void historyDropsTheOldestPastItsBytesButKeepsTheLatestWhateverItsSize() throws Exception {
    registry = registry(History.newBuilder().maxBytes(10).build());
    MessageId first = publish("a", "12345");
    publish("a", "67890");
    publish("a", "this one is longer than ten bytes");
    RecordingSubscriber subscriber = recorder("after the first");

    registry.subscribe(List.of(url("a")), subscriber, StartFrom.after(first.toString()));

    subscriber.assertDelivery(url("a").spelling(), "this one is longer than ten bytes");
  }

  // --- URLs without subscribers --------------------------------------------------------------

  @Test
  void historyOutlivesTheLastSubscriberSoThatAReconnectResumesExactly() throws Exception {
    registry = registry(History.standard());
    RecordingSubscriber first = recorder("first connection");
    Subscription connection = registry.subscribe(List.of(url("a")), first);
    MessageId seen = publish("a", "a1");
    first.takeDelivery();
    connection.close();

    publish("a", "a2 while away");
    publish("a", "a3 while away");
    RecordingSubscriber second = recorder("second connection");
    registry.subscribe(List.of(url("a")), second, StartFrom.after(seen.toString()));

    second.assertDelivery(url("a").spelling(), "a2 while away");
    second.assertDelivery(url("a").spelling(), "a3 while away");
  }

  @Test
  void idleHistoryIsForgottenOnceOlderThanIdleFor() throws Exception {
    registry = registry(History.newBuilder().idleFor(Duration.ofMinutes(1)).build());
    publish("a", "old news");
    now.addAndGet(Duration.ofSeconds(59).toNanos());
    RecordingSubscriber inTime = recorder("in time");
    Subscription visit = registry.subscribe(List.of(url("a")), inTime, StartFrom.latest());
    inTime.assertDelivery(url("a").spelling(), "old news");
    visit.close();

    now.addAndGet(Duration.ofSeconds(60).toNanos());
    RecordingSubscriber late = recorder("late");
    registry.subscribe(List.of(url("a")), late, StartFrom.latest());

    late.assertNoDeliveryWithin(QUIET);
  }

  @Test
  void idleHistoriesPastTheCountOrBytesAreForgottenOldestFirst() throws Exception {
    registry = registry(History.newBuilder().idleUrls(2).idleBytes(8).build());
    publish("a", "aaaa");
    publish("b", "bbbb");
    publish("c", "cccc");
    assertEquals(2, registry.historyCount());
    publish("d", "ddddd");
    assertEquals(1, registry.historyCount());

    RecordingSubscriber subscriber = recorder("all four");
    registry.subscribe(List.of(url("a"), url("b"), url("c"), url("d")), subscriber,
        StartFrom.latest());
    subscriber.assertDelivery(url("d").spelling(), "ddddd");
  }

  @Test
  void historyWithSubscribersIsNeverForgottenForIdleBounds() throws Exception {
    registry = registry(History.newBuilder().idleUrls(0).build());
    registry.subscribe(List.of(url("a")), recorder("keeps a")).close();
    RecordingSubscriber holder = recorder("holder");
    registry.subscribe(List.of(url("a")), holder);
    publish("a", "kept");
    holder.takeDelivery();
    publish("b", "not kept: nobody follows b");

    RecordingSubscriber late = recorder("late");
    registry.subscribe(List.of(url("a"), url("b")), late, StartFrom.latest());
    late.assertDelivery(url("a").spelling(), "kept");
  }

  // --- Delivery order ------------------------------------------------------------------------

  @Test
  void reconnectingWhilePublishingNeitherLosesNorRepeatsAMessage() throws Exception {
    registry = registry(History.standard());
    int messages = 3000;
    AtomicInteger progress = new AtomicInteger();
    ExecutorService threads = Executors.newSingleThreadExecutor();
    RecordingSubscriber connection = new RecordingSubscriber("connection 0");
    Subscription subscription = registry.subscribe(List.of(url("a"), url("b")), connection);
    try {
      Future<?> publisher = threads.submit(() -> {
        for (int i = 1; i <= messages; i++) {
          while (i > progress.get() + 50 && !Thread.currentThread().isInterrupted()) {
            Thread.yield();
          }
          publish(i % 3 == 0 ? "b" : "a", String.valueOf(i));
        }
        return null;
      });

      List<Integer> received = new ArrayList<>();
      int connections = 1;
      while (received.size() < messages) {
        String lastId = null;
        int take = 1 + (connections * 7) % 37;
        for (int i = 0; i < take && received.size() < messages; i++) {
          Delivery delivery = connection.takeDelivery();
          assertEquals(String.valueOf(received.size() + 1), delivery.body(),
              "the message after " + received.size() + ", on connection " + connections);
          received.add(Integer.parseInt(delivery.body()));
          progress.set(received.size());
          lastId = delivery.message().id().toString();
        }
        subscription.close();
        connection = new RecordingSubscriber("connection " + connections++);
        subscription = registry.subscribe(
            List.of(url("a"), url("b")), connection, StartFrom.after(lastId));
      }

      publisher.get(10, TimeUnit.SECONDS);
      List<Integer> expected = new ArrayList<>();
      for (int i = 1; i <= messages; i++) {
        expected.add(i);
      }
      assertEquals(expected, received);
      assertTrue(connections > 100, "reconnected " + connections + " times");
      connection.assertNoDeliveryWithin(QUIET);
    } finally {
      subscription.close();
      threads.shutdownNow();
    }
  }

  @Test
  void messageQueuedBeforeAJoinIsSentToTheJoinerOnceNotAlsoLive() throws Exception {
    registry = registry(History.standard());
    CountDownLatch inCallback = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    registry.subscribe(List.of(url("slow")), (url, message) -> {
      inCallback.countDown();
      await(release);
    });
    ExecutorService threads = Executors.newSingleThreadExecutor();
    try {
      Future<?> busy = threads.submit(() -> publish("slow", "holds the delivery"));
      assertTrue(inCallback.await(5, TimeUnit.SECONDS));

      publish("a", "queued behind the slow subscriber");
      RecordingSubscriber joiner = recorder("joiner");
      registry.subscribe(List.of(url("a")), joiner, StartFrom.latest());
      release.countDown();
      busy.get(5, TimeUnit.SECONDS);

      joiner.assertDelivery(url("a").spelling(), "queued behind the slow subscriber");
      joiner.assertNoDeliveryWithin(QUIET);
    } finally {
      release.countDown();
      threads.shutdownNow();
    }
  }

  @Test
  void subscribersAreCalledOneAtATimeWhileUrlsArePublishedToAtOnce() throws Exception {
    registry = registry(History.standard());
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    AtomicInteger calls = new AtomicInteger();
    List<UpstreamUrl> urls = List.of(url("a"), url("b"), url("c"), url("d"));
    registry.subscribe(urls, (url, message) -> {
      if (inside.incrementAndGet() > 1) {
        overlaps.incrementAndGet();
      }
      for (int spin = 0; spin < 200; spin++) {
        Thread.onSpinWait();
      }
      inside.decrementAndGet();
      calls.incrementAndGet();
    });

    ExecutorService threads = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> publishers = new ArrayList<>();
      for (String path : List.of("a", "b", "c", "d")) {
        publishers.add(threads.submit(() -> {
          for (int i = 0; i < 500; i++) {
            publish(path, "x");
          }
          return null;
        }));
      }
      for (Future<?> publisher : publishers) {
        publisher.get(10, TimeUnit.SECONDS);
      }
    } finally {
      threads.shutdownNow();
    }

    Await.until("every message delivered", () -> calls.get() == 2000);
    assertEquals(0, overlaps.get());
  }

  @Test
  void subscriberMayPublishFromItsCallback() throws Exception {
    registry = registry(History.standard());
    RecordingSubscriber echoes = recorder("echoes");
    registry.subscribe(List.of(url("echo")), echoes);
    registry.subscribe(List.of(url("a")), (url, message) ->
        publish("echo", "echo of " + new String(message.body(), StandardCharsets.UTF_8)));

    publish("a", "ping");

    echoes.assertDelivery(url("echo").spelling(), "echo of ping");
  }

  // --- Helpers -------------------------------------------------------------------------------

  private PollerRegistry registry(History history) {
    return PollerRegistry.newBuilder()
        .minPollGap(Duration.ZERO)
        .pushFedPrefix(PUSHED)
        .history(withClock(history))
        .build();
  }

  /** The same limits, measured with the test's clock. */
  private History withClock(History history) {
    return History.newBuilder()
        .maxMessages(history.maxMessages())
        .maxBytes(history.maxBytes())
        .idleUrls(history.idleUrls())
        .idleBytes(history.idleBytes())
        .idleFor(history.idleFor())
        .nanoTime(now::get)
        .build();
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static UpstreamUrl url(String path) {
    return UpstreamUrl.of(PUSHED + path);
  }

  private MessageId publish(String path, String body) {
    MessageId id = registry.publish(url(path), body.getBytes(StandardCharsets.UTF_8), null);
    assertNotNull(id);
    return id;
  }

  private RecordingSubscriber recorder(String name) {
    RecordingSubscriber recorder = new RecordingSubscriber(name);
    recorders.add(recorder);
    return recorder;
  }
}
