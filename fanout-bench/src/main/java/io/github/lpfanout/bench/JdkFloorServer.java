package io.github.lpfanout.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The JDK HttpServer with nothing of the library in it, run as the baseline with {@code
 * --baseline-server=jdk}: each frame the feed pushes is written to the response stream of every
 * client of its topic and flushed, one write per client per frame, by a few writer threads that
 * each own a share of the streams. Beside the JDK transport it tells what the JDK server's own
 * request handling and write path cost, apart from what the library adds to them.
 *
 * <p>It has no bound for a client that stops reading: a blocked write holds its writer, and every
 * client of that writer waits. Only runs whose clients all read belong against it. A client that
 * leaves is noticed at the next write to it, as the JDK server does not watch a connection while
 * its exchange is open; the benchmark's warm-up sends frames until the streams it left are gone.
 */
final class JdkFloorServer implements BareServer {
  private final HttpServer server;
  private final ExecutorService requests = Executors.newCachedThreadPool();
  private final FloorFeed feed;
  private final AtomicInteger clients = new AtomicInteger();

  JdkFloorServer(int threads, int feedPort) throws IOException {
    // As the benchmark runs the JDK transport: without it, the JDK server leaves Nagle's
    // algorithm on, and a frame waits for the client's acknowledgement of the one before.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
    server.createContext("/t/", this::handle);
    server.setExecutor(requests);
    feed = new FloorFeed("floor", threads, feedPort);
    server.start();
  }

  @Override
  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public int clients() {
    return clients.get();
  }

  @Override
  public String description() {
    return "the bare JDK HttpServer, " + feed.threads() + " writer threads";
  }

  @Override
  public void close() {
    feed.close();
    server.stop(0);
    requests.shutdownNow();
  }

  /** Answers {@code GET /t/<topic>[,<topic>...]} with a stream that stays open. */
  private void handle(HttpExchange exchange) throws IOException {
    Set<Integer> topics = Workload.baselineTopics(exchange.getRequestURI().getPath());
    if (topics == null) {
      exchange.sendResponseHeaders(404, -1);
      exchange.close();
      return;
    }
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
    exchange.getResponseHeaders().set("Cache-Control", "no-cache");
    exchange.sendResponseHeaders(200, 0);
    Stream stream = new Stream(exchange);
    clients.incrementAndGet();
    feed.add(stream, topics);
    // A failure here is noticed, and counted, at the stream's first frame.
    stream.out.flush();
  }

  private final class Stream implements FloorFeed.Client {
    final HttpExchange exchange;
    final OutputStream out;
    boolean open = true; // its writer's thread only, once subscribed

    Stream(HttpExchange exchange) {
      this.exchange = exchange;
      this.out = exchange.getResponseBody();
    }

    /** Writes and flushes {@code frame}; a stream that fails is closed and counted gone. */
    @Override
    public boolean send(byte[] frame) {
      if (!open) {
        return false;
      }
      try {
        out.write(frame);
        out.flush();
        return true;
      } catch (IOException e) {
        open = false;
        clients.decrementAndGet();
        exchange.close();
        return false;
      }
    }
  }
}
