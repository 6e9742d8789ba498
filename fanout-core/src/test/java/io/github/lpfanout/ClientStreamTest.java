package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.ScriptedUpstream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The per-client frame queue, as a blocking writer (take) and a non-blocking writer (poll and
 * onAvailable) use it. Streams that need a subscription hold a real one in a registry polling a
 * held upstream, so that "unsubscribed" is what the registry reports.
 */
class ClientStreamTest {
  private final FrameEncoder bin = FrameEncoder.binary();
  private final BlockingQueue<ClientStream> ends = new LinkedBlockingQueue<>();
  private final ExecutorService writers = Executors.newCachedThreadPool();
  private ScriptedUpstream upstream;
  private PollerRegistry registry;
  private UpstreamUrl url;

  @BeforeEach
  void start() throws Exception {
    upstream = new ScriptedUpstream();
    registry = PollerRegistry.newBuilder().minPollGap(Duration.ZERO).build();
    url = UpstreamUrl.of(upstream.url("/feed"));
  }

  @AfterEach
  void stop() {
    writers.shutdownNow();
    registry.close();
    upstream.close();
  }

  @Test
  void framesComeOutInOrderAsTheMessagesSharedArrays() {
    ClientStream stream = stream(1 << 20);
    List<Message> messages = List.of(message("one"), message("two"), message("three"));

    for (Message message : messages) {
      stream.onMessage(url, message);
    }

    for (Message message : messages) {
      assertSame(message.frame(bin, url.spelling()), stream.poll());
    }
    assertNull(stream.poll());
    assertFalse(stream.isFinished());
  }

  @Test
  void frameCarriesTheUrlAsThisClientWroteIt() {
    UpstreamUrl upper = UpstreamUrl.of(url.spelling().replace("http://", "HTTP://"));
    ClientStream stream = new ClientStream(bin, List.of(upper), "test", 1 << 20, ends::add);
    Message message = message("body");

    stream.onMessage(upper, message);

    assertArrayEquals(
        bin.encode(upper.spelling(), message).toByteArray(), stream.poll().toByteArray());
  }

  @Test
  void pendingBytesCountWhatIsQueuedAndNotTaken() {
    ClientStream stream = stream(1 << 20);
    int size = frameSize("abc");

    stream.onMessage(url, message("abc"));
    stream.onMessage(url, message("def"));
    assertEquals(2L * size, stream.pendingBytes());

    stream.poll();
    assertEquals(size, stream.pendingBytes());
    stream.poll();
    assertEquals(0, stream.pendingBytes());
  }

  @Test
  void frameThatWouldPassTheBoundDropsTheClient() throws Exception {
    ClientStream stream = subscribed(frameSize("12345") * 2L - 1);
    AtomicInteger aborts = new AtomicInteger();
    stream.onAbort(aborts::incrementAndGet);

    stream.onMessage(url, message("12345"));
    assertFalse(stream.isFinished());
    stream.onMessage(url, message("12345"));

    assertTrue(stream.isFinished());
    assertEquals(1, aborts.get());
    assertEquals(0, registry.subscriberCount(url), "the dropped client is unsubscribed");
    assertEquals(0, registry.pollerCount());
    assertSame(stream, ends.poll());
    assertNull(stream.poll(), "queued frames are discarded");
    assertEquals(0, stream.pendingBytes());

    stream.onMessage(url, message("late"));
    stream.close();
    assertNull(stream.poll());
    assertEquals(1, aborts.get());
    assertTrue(ends.isEmpty(), "the end is reported once");
  }

  @Test
  void queueMayFillExactlyToTheBound() {
    ClientStream stream = stream(frameSize("12345") * 2L);

    stream.onMessage(url, message("12345"));
    stream.onMessage(url, message("12345"));

    assertFalse(stream.isFinished());
    assertEquals(frameSize("12345") * 2L, stream.pendingBytes());
  }

  @Test
  void frameLargerThanTheBoundIsAcceptedIntoAnEmptyQueue() {
    ClientStream stream = stream(10);
    Message big = message("x".repeat(1000));

    stream.onMessage(url, big);
    assertFalse(stream.isFinished());
    assertSame(big.frame(bin, url.spelling()), stream.poll());

    stream.onMessage(url, big);
    assertFalse(stream.isFinished(), "the queue was empty again");
    stream.onMessage(url, message("y"));
    assertTrue(stream.isFinished(), "nothing more fits behind the large frame");
  }

  @Test
  void heartbeatIsQueuedOnlyWhenTheStreamWasIdle() {
    ClientStream stream = stream(1 << 20);
    long interval = TimeUnit.SECONDS.toNanos(15);

    stream.heartbeatIfIdle(System.nanoTime(), interval);
    assertNull(stream.poll(), "not idle long enough yet");

    stream.heartbeatIfIdle(System.nanoTime() + interval, interval);
    assertArrayEquals(bin.heartbeat(), stream.poll().toByteArray());

    stream.heartbeatIfIdle(System.nanoTime() + interval / 2, interval);
    assertNull(stream.poll(), "the heartbeat counts as activity");
  }

  @Test
  void heartbeatsCountAgainstTheBound() {
    ClientStream stream = stream(frameSize("12345"));
    stream.onMessage(url, message("12345"));

    stream.heartbeatIfIdle(System.nanoTime() + TimeUnit.HOURS.toNanos(1), 1);

    assertTrue(stream.isFinished(), "a client that reads nothing is dropped even when idle");
  }

  // The non-blocking writer

  @Test
  void onAvailableRunsOnceWhenAFrameArrivesAfterPollReturnedNull() {
    ClientStream stream = stream(1 << 20);
    AtomicInteger wakeups = new AtomicInteger();
    stream.onAvailable(wakeups::incrementAndGet);
    assertNull(stream.poll());

    stream.onMessage(url, message("one"));
    stream.onMessage(url, message("two"));
    assertEquals(1, wakeups.get(), "one wakeup per empty poll");

    assertEquals("one", bodyOf(stream.poll()));
    assertEquals("two", bodyOf(stream.poll()));
    assertNull(stream.poll());
    stream.onMessage(url, message("three"));
    assertEquals(2, wakeups.get());
  }

  @Test
  void onAvailableDoesNotRunWhileTheWriterIsNotWaiting() {
    ClientStream stream = stream(1 << 20);
    AtomicInteger wakeups = new AtomicInteger();
    stream.onAvailable(wakeups::incrementAndGet);

    stream.onMessage(url, message("one"));
    stream.poll();
    stream.onMessage(url, message("two"));

    assertEquals(0, wakeups.get());
  }

  @Test
  void onAvailableRunsWhenTheStreamFinishesWhileTheWriterWaits() {
    ClientStream stream = stream(1 << 20);
    AtomicInteger wakeups = new AtomicInteger();
    stream.onAvailable(wakeups::incrementAndGet);
    assertNull(stream.poll());

    stream.finish();

    assertEquals(1, wakeups.get());
    assertTrue(stream.isFinished());
  }

  @Test
  void onAvailableRunsWhenTheStreamIsDroppedWhileTheWriterWaits() {
    ClientStream stream = stream(1 << 20);
    AtomicInteger wakeups = new AtomicInteger();
    stream.onAvailable(wakeups::incrementAndGet);
    assertNull(stream.poll());

    stream.abort();

    assertEquals(1, wakeups.get());
    assertTrue(stream.isFinished());
  }

  @Test
  void callbacksRunOutsideTheStreamsLock() throws Exception {
    ClientStream stream = stream(frameSize("12345"));
    List<Throwable> failures = new ArrayList<>();
    Runnable touchFromAnotherThread = () -> {
      try {
        CompletableFuture.supplyAsync(stream::pendingBytes, writers).get(2, TimeUnit.SECONDS);
      } catch (Exception e) {
        failures.add(e);
      }
    };
    stream.onAvailable(touchFromAnotherThread);
    stream.onAbort(touchFromAnotherThread);
    assertNull(stream.poll());

    stream.onMessage(url, message("12345"));
    stream.onMessage(url, message("12345"));

    assertTrue(stream.isFinished());
    assertEquals(List.of(), failures, "another thread could take the lock from a callback");
  }

  @Test
  void throwingCallbackDoesNotBreakTheStream() {
    ClientStream stream = stream(1 << 20);
    stream.onAvailable(() -> {
      throw new IllegalStateException("writer bug, thrown on purpose by the test");
    });
    assertNull(stream.poll());

    stream.onMessage(url, message("one"));

    assertEquals("one", bodyOf(stream.poll()));
  }

  // The blocking writer

  @Test
  void takeBlocksUntilAFrameArrives() throws Exception {
    ClientStream stream = stream(1 << 20);
    Future<Frame> taken = writers.submit(stream::take);
    assertThrows(TimeoutException.class, () -> taken.get(200, TimeUnit.MILLISECONDS));

    stream.onMessage(url, message("awaited"));

    assertEquals("awaited", bodyOf(taken.get(5, TimeUnit.SECONDS)));
  }

  @Test
  void takeReturnsNullWhenTheStreamIsClosed() throws Exception {
    ClientStream stream = stream(1 << 20);
    Future<Frame> taken = writers.submit(stream::take);
    assertThrows(TimeoutException.class, () -> taken.get(100, TimeUnit.MILLISECONDS));

    stream.close();

    assertNull(taken.get(5, TimeUnit.SECONDS));
  }

  @Test
  void takeIsInterruptible() throws Exception {
    ClientStream stream = stream(1 << 20);
    CompletableFuture<Throwable> outcome = new CompletableFuture<>();
    Thread writer = new Thread(() -> {
      try {
        stream.take();
        outcome.complete(null);
      } catch (Throwable t) {
        outcome.complete(t);
      }
    });
    writer.start();
    Await.until("the writer waiting", () -> writer.getState() == Thread.State.WAITING);

    writer.interrupt();

    assertTrue(outcome.get(5, TimeUnit.SECONDS) instanceof InterruptedException);
  }

  @Test
  void blockingWriterReceivesEveryFrameFromConcurrentPollers() throws Exception {
    ClientStream stream = stream(Long.MAX_VALUE);
    int pollers = 4;
    int perPoller = 500;
    Future<List<String>> written = writers.submit(() -> {
      List<String> bodies = new ArrayList<>();
      for (Frame frame = stream.take(); frame != null; frame = stream.take()) {
        bodies.add(bodyOf(frame));
      }
      return bodies;
    });

    List<Future<?>> offers = new ArrayList<>();
    for (int p = 0; p < pollers; p++) {
      int poller = p;
      offers.add(writers.submit(() -> {
        for (int i = 0; i < perPoller; i++) {
          stream.onMessage(url, message(poller + ":" + i));
        }
      }));
    }
    for (Future<?> offer : offers) {
      offer.get(10, TimeUnit.SECONDS);
    }
    stream.finish();

    List<String> bodies = written.get(10, TimeUnit.SECONDS);
    assertEquals(pollers * perPoller, bodies.size());
    for (int p = 0; p < pollers; p++) {
      String prefix = p + ":";
      List<String> ofPoller = bodies.stream().filter(b -> b.startsWith(prefix)).toList();
      for (int i = 0; i < perPoller; i++) {
        assertEquals(prefix + i, ofPoller.get(i), "each poller's frames in order");
      }
    }
    assertEquals(0, stream.pendingBytes());
  }

  // Ending

  @Test
  void finishLetsTheWriterDrainThenFinishes() throws Exception {
    ClientStream stream = subscribed(1 << 20);
    AtomicInteger aborts = new AtomicInteger();
    stream.onAbort(aborts::incrementAndGet);
    stream.onMessage(url, message("one"));
    stream.onMessage(url, message("two"));

    stream.finish();

    assertEquals(0, registry.subscriberCount(url), "finishing unsubscribes at once");
    stream.onMessage(url, message("after finish"));
    assertFalse(stream.isFinished());
    assertEquals("one", bodyOf(stream.take()));
    assertFalse(stream.isFinished());
    assertEquals("two", bodyOf(stream.take()));
    assertTrue(stream.isFinished());
    assertNull(stream.take());
    assertSame(stream, ends.poll());
    stream.close();
    assertTrue(ends.isEmpty(), "the end is reported once");
    assertEquals(0, aborts.get(), "finishing is not aborting");
  }

  @Test
  void closeDiscardsQueuedFramesAndUnsubscribes() throws Exception {
    ClientStream stream = subscribed(1 << 20);
    AtomicInteger aborts = new AtomicInteger();
    stream.onAbort(aborts::incrementAndGet);
    stream.onMessage(url, message("one"));

    stream.close();

    assertTrue(stream.isFinished());
    assertNull(stream.poll());
    assertEquals(0, stream.pendingBytes());
    assertEquals(0, registry.subscriberCount(url));
    assertEquals(0, registry.pollerCount());
    assertSame(stream, ends.poll());
    assertEquals(0, aborts.get(), "the writer closed it; nothing to break out of");
    stream.close();
    assertTrue(ends.isEmpty());
  }

  @Test
  void abortRunsTheAbortCallbackOnce() {
    ClientStream stream = stream(1 << 20);
    AtomicInteger aborts = new AtomicInteger();
    stream.onAbort(aborts::incrementAndGet);
    stream.onMessage(url, message("one"));

    stream.abort();
    stream.abort();

    assertEquals(1, aborts.get());
    assertTrue(stream.isFinished());
    assertNull(stream.poll());
    assertSame(stream, ends.poll());
    assertTrue(ends.isEmpty());
  }

  @Test
  void abortAfterFinishBreaksAWriterThatDidNotDrain() {
    ClientStream stream = stream(1 << 20);
    AtomicInteger aborts = new AtomicInteger();
    stream.onAbort(aborts::incrementAndGet);
    stream.onMessage(url, message("never written"));
    stream.finish();

    stream.abort();

    assertEquals(1, aborts.get());
    assertTrue(stream.isFinished());
    assertNull(stream.poll());
  }

  @Test
  void subscriptionAttachedAfterTheStreamEndedIsClosedAtOnce() throws Exception {
    ClientStream stream = stream(1 << 20);
    stream.close();

    stream.attach(registry.subscribe(List.of(url), stream));

    assertEquals(0, registry.subscriberCount(url));
    assertEquals(0, registry.pollerCount());
  }

  @Test
  void slowClientIsDroppedWithoutDelayingTheOthers() throws Exception {
    int bound = frameSize("message 10") * 3;
    ClientStream slow = subscribed(bound);
    ClientStream fast = subscribed(bound);
    AtomicInteger slowAborts = new AtomicInteger();
    slow.onAbort(slowAborts::incrementAndGet);
    Future<List<String>> fastReceived = writers.submit(() -> {
      List<String> bodies = new ArrayList<>();
      while (bodies.size() < 20) {
        bodies.add(bodyOf(fast.take()));
      }
      return bodies;
    });

    for (int i = 1; i <= 20; i++) {
      upstream.answer("/feed", String.format("message %02d", i));
    }

    List<String> expected = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      expected.add(String.format("message %02d", i));
    }
    assertEquals(expected, fastReceived.get(10, TimeUnit.SECONDS));
    assertTrue(slow.isFinished());
    assertEquals(1, slowAborts.get());
    assertEquals(1, registry.subscriberCount(url), "only the fast client is left");
    assertFalse(fast.isFinished());
  }

  private ClientStream stream(long maxPendingBytes) {
    return new ClientStream(bin, List.of(url), "test client", maxPendingBytes, ends::add);
  }

  /** A stream subscribed in the registry, as {@link Fanout} makes them. */
  private ClientStream subscribed(long maxPendingBytes) {
    ClientStream stream = stream(maxPendingBytes);
    stream.attach(registry.subscribe(List.of(url), stream));
    return stream;
  }

  private Message message(String body) {
    return new Message(url.canonical(), body.getBytes(StandardCharsets.UTF_8), "text/plain");
  }

  private int frameSize(String body) {
    return url.spelling().length() + 1 + 4 + body.length();
  }

  /** The body of a binary frame. */
  static String bodyOf(Frame frame) {
    ByteBuffer buffer = ByteBuffer.wrap(frame.toByteArray());
    while (buffer.get() != '\n') {
      // skip the URL
    }
    byte[] body = new byte[buffer.getInt()];
    buffer.get(body);
    return new String(body, StandardCharsets.UTF_8);
  }
}
