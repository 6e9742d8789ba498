package io.github.lpfanout.testing;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;

/**
 * A long-polling upstream on loopback: each request for a path is held until the test scripts an
 * answer for that path, as a long-poll server holds a request until it has news. It records every
 * request and how many were in flight at once, per path and in all.
 */
public final class ScriptedUpstream implements AutoCloseable {
  private final MockWebServer server = new MockWebServer();
  private final Map<String, BlockingQueue<MockResponse>> answers = new ConcurrentHashMap<>();
  private final Map<String, PathStats> stats = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();
  private volatile boolean closed;

  public ScriptedUpstream() throws IOException {
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        return hold(request);
      }
    });
    server.start(java.net.InetAddress.getByName("127.0.0.1"), 0);
  }

  private MockResponse hold(RecordedRequest request) throws InterruptedException {
    String path = request.getUrl().encodedPath();
    PathStats counts = statsOf(path);
    counts.requests.incrementAndGet();
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    int nowForPath = counts.inFlight.incrementAndGet();
    counts.maxInFlight.accumulateAndGet(nowForPath, Math::max);
    try {
      BlockingQueue<MockResponse> queue = queueOf(path);
      while (!closed) {
        MockResponse answer = queue.poll(20, TimeUnit.MILLISECONDS);
        if (answer != null) {
          return answer;
        }
      }
      return new MockResponse.Builder().code(503).build();
    } finally {
      counts.inFlight.decrementAndGet();
      inFlight.decrementAndGet();
    }
  }

  /** The absolute URL of {@code path} on this upstream. */
  public String url(String path) {
    return server.url(path).toString();
  }

  /** The port the upstream listens on. */
  public int port() {
    return server.getPort();
  }

  /** Answers the next request for {@code path} (held or future) with 200 and {@code body}. */
  public void answer(String path, String body) {
    answer(path, new MockResponse.Builder().body(body).build());
  }

  /** Answers the next request for {@code path} (held or future) with {@code response}. */
  public void answer(String path, MockResponse response) {
    queueOf(path).add(response);
  }

  /** How many requests for {@code path} arrived so far. */
  public int requestCount(String path) {
    return statsOf(path).requests.get();
  }

  /** How many requests for {@code path} are being held now. */
  public int inFlight(String path) {
    return statsOf(path).inFlight.get();
  }

  /** The most requests for {@code path} held at once so far. */
  public int maxInFlight(String path) {
    return statsOf(path).maxInFlight.get();
  }

  /** How many requests, for any path, are being held now. */
  public int inFlight() {
    return inFlight.get();
  }

  /** How many scripted answers for {@code path} no request has taken yet. */
  public int unansweredScripts(String path) {
    return queueOf(path).size();
  }

  /** The next recorded request, or null if none arrives within {@code millis}. */
  public RecordedRequest takeRequest(long millis) throws InterruptedException {
    return server.takeRequest(millis, TimeUnit.MILLISECONDS);
  }

  private BlockingQueue<MockResponse> queueOf(String path) {
    return answers.computeIfAbsent(path, p -> new LinkedBlockingQueue<>());
  }

  private PathStats statsOf(String path) {
    return stats.computeIfAbsent(path, p -> new PathStats());
  }

  @Override
  public void close() {
    closed = true;
    server.close();
  }

  private static final class PathStats {
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();
  }
}
