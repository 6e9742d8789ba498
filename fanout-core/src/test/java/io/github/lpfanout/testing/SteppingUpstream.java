package io.github.lpfanout.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;

/**
 * A long-poll upstream that steps its clients through a numbered sequence of messages by validator.
 * Message {@code n} has the body {@code "message n"} and the ETag {@code "n"}. A request without
 * {@code If-None-Match} gets message 1; one with {@code If-None-Match: "n"} gets message {@code
 * n+1}: at once if it was published, else as soon as it is, or a 304 once the hold bound passes.
 *
 * <p>It checks every validator it receives: one that is malformed or names a message it never sent
 * is recorded as a violation, answered 400, and makes {@link #violations()} non-empty. A client
 * that follows the validators therefore receives each message exactly once, in order.
 */
public final class SteppingUpstream implements AutoCloseable {
  private final MockWebServer server = new MockWebServer();
  private final Duration holdBound;
  private final Object lock = new Object();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicInteger notModified = new AtomicInteger();
  private int published;
  private boolean closed;
  private ScheduledExecutorService publisher;

  /** Starts on a free loopback port; a request waits at most {@code holdBound} for news. */
  public SteppingUpstream(Duration holdBound) throws IOException {
    this.holdBound = holdBound;
    server.setServerSocketFactory(new NoDelayServerSockets());
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        return step(request);
      }
    });
    server.start(InetAddress.getByName("127.0.0.1"), 0);
  }

  private MockResponse step(RecordedRequest request) throws InterruptedException {
    requests.incrementAndGet();
    String validator = request.getHeaders().get("If-None-Match");
    int has = validator == null ? 0 : messageNumber(validator);
    synchronized (lock) {
      if (has < 0 || has > published) {
        violations.add("If-None-Match " + validator + " with " + published + " published");
        return new MockResponse.Builder().code(400).build();
      }

      long deadline = System.nanoTime() + holdBound.toNanos();
      while (published <= has && !closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          notModified.incrementAndGet();
          return new MockResponse.Builder().code(304).setHeader("ETag", etag(has)).build();
        }
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
      if (closed) {
        return new MockResponse.Builder().code(503).build();
      }
    }

    int next = has + 1;
    return new MockResponse.Builder()
        .setHeader("ETag", etag(next))
        .setHeader("Content-Type", "text/plain; charset=utf-8")
        .body(body(next))
        .build();
  }

  /** The body of message {@code n}. */
  public static String body(int n) {
    return "message " + n;
  }

  private static String etag(int n) {
    return "\"" + n + "\"";
  }

  private static int messageNumber(String validator) {
    if (validator.length() < 3 || !validator.startsWith("\"") || !validator.endsWith("\"")) {
      return -1;
    }
    try {
      return Integer.parseInt(validator.substring(1, validator.length() - 1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The URL of {@code path}; every path serves the same sequence. */
  public String url(String path) {
    return server.url(path).toString();
  }

  /** Publishes the next message and returns its number. */
  public int publish() {
    synchronized (lock) {
      published++;
      lock.notifyAll();
      return published;
    }
  }

  /** How many messages were published. */
  public int published() {
    synchronized (lock) {
      return published;
    }
  }

  /** Publishes a message every {@code period} on a thread of its own, until {@link #stop()}. */
  public void publishEvery(Duration period) {
    publisher = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "stepping-publisher");
      thread.setDaemon(true);
      return thread;
    });
    publisher.scheduleAtFixedRate(this::publish, 0, period.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Stops the publishing that {@link #publishEvery} started and returns the messages published. */
  public int stop() throws InterruptedException {
    publisher.shutdown();
    if (!publisher.awaitTermination(5, TimeUnit.SECONDS)) {
      throw new AssertionError("the publisher did not stop");
    }
    return published();
  }

  /** Requests that carried a validator this upstream never sent. */
  public List<String> violations() {
    return List.copyOf(violations);
  }

  /** How many requests arrived. */
  public int requestCount() {
    return requests.get();
  }

  /** How many requests were answered 304 after waiting out the hold bound. */
  public int notModifiedCount() {
    return notModified.get();
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    if (publisher != null) {
      publisher.shutdownNow();
    }
    server.close();
  }
}
