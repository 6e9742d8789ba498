package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Await;
import java.io.PrintStream;
import java.lang.ref.WeakReference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Live messages as streams receive them through their topic's ring: each stream queues a position
 * and takes the message by it later, and the topic keeps a message only while a live stream has
 * not taken it. The messages are published into a push-fed registry, so every delivery is one the
 * test made.
 */
class LiveDeliveryTest {
  private static final String PUSHED = "http://push.test/";

  private final FrameEncoder bin = FrameEncoder.binary();
  private final ExecutorService readers = Executors.newCachedThreadPool();
  private final UpstreamUrl feed = UpstreamUrl.of(PUSHED + "feed");
  private PollerRegistry registry;

  @BeforeEach
  void start() {
    registry = PollerRegistry.newBuilder().pushFedPrefix(PUSHED).build();
  }

  @AfterEach
  void stop() {
    readers.shutdownNow();
    registry.close();
  }

  @Test
  void streamThatFallsFarBehindStillTakesEveryMessageInOrder() throws Exception {
    ClientStream slow = subscribed(List.of(feed));
    ClientStream fast = subscribed(List.of(feed));
    Future<List<String>> fastBodies = readers.submit(() -> take(fast, 1_000));

    List<String> published = publish(feed, 1_000);

    assertEquals(published, fastBodies.get(10, TimeUnit.SECONDS));
    awaitQueued(slow, 1_000);
    assertEquals(1_000, registry.keptForLiveSubscribers(feed),
        "the topic keeps what the slow stream has not taken");
    assertEquals(published, drain(slow));
  }

  @Test
  void topicLetsGoOfMessagesOnceEveryStreamTookThem() throws Exception {
    ClientStream first = subscribed(List.of(feed));
    ClientStream second = subscribed(List.of(feed));
    publishTo(300, first, second);
    assertEquals(300, drain(first).size());
    assertEquals(300, drain(second).size());

    // Queued for both first: while they drained, the ring may have kept one message a moment.
    List<String> next = publishTo(1, first, second);

    awaitKept(1);
    assertEquals(next, drain(first));
  }

  @Test
  void closedStreamLeavesNothingKeptForIt() throws Exception {
    ClientStream gone = subscribed(List.of(feed));
    ClientStream reader = subscribed(List.of(feed));
    publishTo(100, gone, reader);
    assertEquals(100, drain(reader).size());

    gone.close();
    publish(feed, 1);

    awaitKept(1);
  }

  @Test
  void finishedStreamDrainsWhatWasQueuedAfterItsTopicsForgotIt() throws Exception {
    ClientStream finishing = subscribed(List.of(feed));
    ClientStream staying = subscribed(List.of(feed));
    List<String> before = publishTo(50, finishing, staying);

    // Finishing closes the subscription: the topic then keeps nothing for this stream, and the
    // messages it delivers next take over the ring slots of the first 50.
    finishing.finish();
    assertEquals(1, registry.subscriberCount(feed));
    assertEquals(before, drain(staying));
    List<String> after = publishTo(50, staying);
    assertEquals(after, drain(staying));

    assertEquals(before, drain(finishing));
    assertTrue(finishing.isFinished());
  }

  @Test
  void messagesOfSeveralUrlsArriveInTheOrderTheyWerePublished() throws Exception {
    UpstreamUrl other = UpstreamUrl.of(PUSHED + "other");
    ClientStream both = subscribed(List.of(feed, other));
    ClientStream reversed = subscribed(List.of(other, feed));
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      UpstreamUrl url = i % 3 == 0 ? other : feed;
      String body = url == other ? "o" + i : "f" + i;
      registry.publish(url, body.getBytes(StandardCharsets.UTF_8), "text/plain");
      expected.add(body);
    }

    assertEquals(expected, take(both, 200));
    assertEquals(expected, take(reversed, 200));
  }

  @Test
  void otherSubscribersHoldNothingInTheTopic() throws Exception {
    List<String> received = new CopyOnWriteArrayList<>();
    registry.subscribe(List.of(feed),
        (url, message) -> received.add(new String(message.body(), StandardCharsets.UTF_8)));

    List<String> published = publish(feed, 100);

    Await.until("100 messages received", () -> received.size() == 100);
    assertEquals(published, received);
    // Each message was taken as the subscriber was called with it.
    awaitKept(0);
  }

  /**
   * The heartbeat thread finds a full stream and drops it, and logs that before it unsubscribes.
   * Messages delivered meanwhile must not move the stream's entry past what it still had queued:
   * the topic would let go of those and reuse their slots for the new messages.
   */
  @ParameterizedTest
  @ValueSource(ints = {1, 16})
  void streamDroppedByAHeartbeatHandsOutNothingItsTopicLetGoOf(int deliveredMeanwhile)
      throws Exception {
    long bound = 3L * frameBytes();
    ClientStream full = subscribed(List.of(feed), "full client", bound);
    ClientStream reader = subscribed(List.of(feed));
    publishTo(3, full, reader);
    assertEquals(3, drain(reader).size());

    try (LogGate gate = new LogGate("Dropping client full client")) {
      readers.submit(() -> full.heartbeatIfIdle(System.nanoTime(), 0));
      gate.awaitHeld();
      publishTo(deliveredMeanwhile, reader);

      Frame frame = full.poll();
      assertNull(frame == null ? null : bodyOf(frame), "the dropped stream handed out a frame");
    }
  }

  @Test
  void backlogOfAStreamThatLeftIsLetGoOfWithoutWaitingForTheNextMessage() {
    keepingOneMessageOfHistory();
    registry.subscribe(List.of(feed), (url, message) -> { });
    ClientStream gone = subscribed(List.of(feed));
    WeakReference<byte[]> first = publishAndForget("m0000");
    publish(feed, 99);
    awaitQueued(gone, 100);

    gone.close();

    awaitCollected(first);
  }

  @Test
  void backlogOfAStreamThatCaughtUpIsLetGoOfWithoutWaitingForTheNextMessage() {
    keepingOneMessageOfHistory();
    ClientStream behind = subscribed(List.of(feed));
    WeakReference<byte[]> first = publishAndForget("m0000");
    publish(feed, 99);
    awaitQueued(behind, 100);

    assertEquals(100, drain(behind).size());

    awaitCollected(first);
  }

  private ClientStream subscribed(List<UpstreamUrl> urls) {
    return subscribed(urls, "test client", Long.MAX_VALUE);
  }

  private ClientStream subscribed(List<UpstreamUrl> urls, String client, long maxPendingBytes) {
    ClientStream stream = new ClientStream(bin, urls, client, maxPendingBytes, s -> { });
    stream.attach(registry.subscribe(urls, stream));
    return stream;
  }

  /** Replaces the registry by one whose history keeps only each URL's last message. */
  private void keepingOneMessageOfHistory() {
    registry.close();
    registry = PollerRegistry.newBuilder()
        .pushFedPrefix(PUSHED)
        .history(History.newBuilder().maxMessages(1).build())
        .build();
  }

  /** Publishes {@code body} to {@link #feed}; returns a weak reference to its bytes. */
  private WeakReference<byte[]> publishAndForget(String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    registry.publish(feed, bytes, "text/plain");
    return new WeakReference<>(bytes);
  }

  private static void awaitCollected(WeakReference<byte[]> body) {
    Await.until("the first message's body collected", () -> {
      System.gc();
      return body.get() == null;
    });
  }

  /** Publishes {@code count} messages, {@code m0000} on, and returns their bodies. */
  private List<String> publish(UpstreamUrl url, int count) {
    List<String> bodies = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String body = String.format("m%04d", i);
      registry.publish(url, body.getBytes(StandardCharsets.UTF_8), "text/plain");
      bodies.add(body);
    }
    return bodies;
  }

  /** Takes the next {@code count} message bodies, waiting for each. */
  private static List<String> take(ClientStream stream, int count) throws InterruptedException {
    List<String> bodies = new ArrayList<>();
    while (bodies.size() < count) {
      bodies.add(bodyOf(stream.take()));
    }
    return bodies;
  }

  /** Takes every message body queued now, without waiting. */
  private static List<String> drain(ClientStream stream) {
    List<String> bodies = new ArrayList<>();
    for (Frame frame = stream.poll(); frame != null; frame = stream.poll()) {
      bodies.add(bodyOf(frame));
    }
    assertNull(stream.poll());
    return bodies;
  }

  /**
   * Publishes {@code count} messages to {@link #feed}, as {@link #publish}, and waits until all of
   * them are queued for each of {@code streams}; returns their bodies.
   */
  private List<String> publishTo(int count, ClientStream... streams) {
    List<String> bodies = publish(feed, count);
    for (ClientStream stream : streams) {
      awaitQueued(stream, count);
    }
    return bodies;
  }

  /**
   * Waits until the topic of {@link #feed} keeps {@code count} messages, as it does once its last
   * delivery is over.
   */
  private void awaitKept(int count) {
    Await.until("the topic keeping " + count + " messages",
        () -> registry.keptForLiveSubscribers(feed) == count);
  }

  /** Waits until {@code count} of this test's messages of {@link #feed} are queued for it. */
  private void awaitQueued(ClientStream stream, int count) {
    Await.until(count + " messages queued", () -> stream.pendingBytes() >= count * frameBytes());
  }

  /** The size of a binary frame of {@link #feed} carrying one of this test's bodies. */
  private long frameBytes() {
    return feed.spelling().length() + 1 + 4 + "m0000".length();
  }

  private static String bodyOf(Frame frame) {
    return ClientStreamTest.bodyOf(frame);
  }

  /**
   * Holds the thread that prints a line containing {@code text} to {@code System.err}, where the
   * tests' SLF4J binding logs, until closed.
   */
  private static final class LogGate extends PrintStream {
    private final PrintStream original = System.err;
    private final String text;
    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch open = new CountDownLatch(1);

    LogGate(String text) {
      super(System.err, true);
      this.text = text;
      System.setErr(this);
    }

    @Override
    public void println(String line) {
      if (line != null && line.contains(text) && held.getCount() > 0) {
        held.countDown();
        try {
          open.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      super.println(line);
    }

    void awaitHeld() throws InterruptedException {
      assertTrue(held.await(10, TimeUnit.SECONDS), "the drop was never logged");
    }

    @Override
    public void close() {
      open.countDown();
      System.setErr(original);
    }
  }
}
