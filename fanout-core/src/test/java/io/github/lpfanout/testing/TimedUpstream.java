package io.github.lpfanout.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocketFactory;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Protocol;

/**
 * An upstream on loopback that answers requests, whatever their path, with the responses a test
 * scripted, in order, and records when each request arrived, so that
 * a test can check the pace of polling. A request that finds no script is held for the hold bound,
 * as a long-poll server holds a request while it has no news, and then answered 304.
 */
public final class TimedUpstream implements AutoCloseable {

  /** One request, with the {@link System#nanoTime()} and wall-clock time at which it arrived. */
  public record Arrival(long nanos, long wallMillis, RecordedRequest request) {

    /** A header of the request, or null. */
    public String header(String name) {
      return request.getHeaders().get(name);
    }
  }

  private static final Duration DEFAULT_HOLD = Duration.ofMillis(200);

  private final MockWebServer server = new MockWebServer();
  private final BlockingQueue<MockResponse> script = new LinkedBlockingQueue<>();
  private final List<Arrival> arrivals = new CopyOnWriteArrayList<>();
  private final Duration holdBound;
  private volatile boolean closed;

  private TimedUpstream(int port, SSLSocketFactory tls, Duration holdBound) throws IOException {
    this.holdBound = holdBound;
    server.setServerSocketFactory(new NoDelayServerSockets());
    server.setDispatcher(new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
        arrivals.add(new Arrival(System.nanoTime(), System.currentTimeMillis(), request));
        return answer();
      }
    });
    if (tls != null) {
      server.useHttps(tls);
      server.setProtocols(List.of(Protocol.HTTP_1_1));
    }
    server.start(InetAddress.getByName("127.0.0.1"), port);
  }

  /** Starts a plain HTTP upstream on a free port. */
  public static TimedUpstream start() throws IOException {
    return new TimedUpstream(0, null, DEFAULT_HOLD);
  }

  /** Starts a plain HTTP upstream on {@code port}, which must be free. */
  public static TimedUpstream startOn(int port) throws IOException {
    return new TimedUpstream(port, null, DEFAULT_HOLD);
  }

  /** Starts an HTTPS upstream on a free port whose handshakes {@code tls} makes. */
  public static TimedUpstream startHttps(SSLSocketFactory tls) throws IOException {
    return new TimedUpstream(0, tls, DEFAULT_HOLD);
  }

  private MockResponse answer() throws InterruptedException {
    long deadline = System.nanoTime() + holdBound.toNanos();
    while (!closed && System.nanoTime() < deadline) {
      MockResponse next = script.poll(10, TimeUnit.MILLISECONDS);
      if (next != null) {
        return next;
      }
    }
    return new MockResponse.Builder().code(304).build();
  }

  /** Scripts the answer to the next request that finds none. */
  public TimedUpstream enqueue(MockResponse response) {
    script.add(response);
    return this;
  }

  /** Scripts a 200 with {@code body}. */
  public TimedUpstream enqueue(String body) {
    return enqueue(new MockResponse.Builder().body(body).build());
  }

  /** The URL of {@code path} on this upstream. */
  public String url(String path) {
    return server.url(path).toString();
  }

  /** The port it listens on. */
  public int port() {
    return server.getPort();
  }

  /** Every request so far, in order of arrival. */
  public List<Arrival> arrivals() {
    return List.copyOf(arrivals);
  }

  /** How many requests arrived so far. */
  public int requestCount() {
    return arrivals.size();
  }

  /** Waits up to 10 seconds for {@code count} requests and returns the first {@code count}. */
  public List<Arrival> awaitArrivals(int count) {
    Await.until(count + " requests at " + url("/"), () -> arrivals.size() >= count);
    return arrivals().subList(0, count);
  }

  /** Scripted answers no request has taken yet. */
  public int unanswered() {
    return script.size();
  }

  @Override
  public void close() {
    closed = true;
    server.close();
  }
}
