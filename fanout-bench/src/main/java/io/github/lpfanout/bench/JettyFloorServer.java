package io.github.lpfanout.bench;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.servlet.AsyncContext;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

/**
 * Jetty with nothing of the library in it, run as the baseline with {@code
 * --baseline-server=jetty}: an async servlet whose responses are written with the Servlet API's
 * non-blocking output, as the library's servlet writes them, by a few writer threads that each own
 * a share of the streams. Each frame the feed pushes is written to every client of its topic and
 * flushed, one write and one flush per client per frame while the client keeps up. Beside the
 * Jetty transport it tells what Jetty's own request handling and write path cost, apart from what
 * the library adds to them.
 *
 * <p>Jetty is set up as {@link JettyTransport} sets it up, with the servlet's default response
 * buffer of 8 KiB, but with no idle timeout worth the name, as the floor sends no heartbeats.
 *
 * <p>When a client's output is not ready, its frames wait and are written, then flushed once, when
 * Jetty says it is ready again; a client with more than {@value #MAX_QUEUED_BYTES} bytes waiting
 * is dropped, so that one that stops reading costs a bounded amount of memory. A client that leaves
 * is noticed when a write to it fails.
 */
final class JettyFloorServer implements BareServer {
  private static final int BACKLOG = 4096;
  private static final int OUTPUT_BUFFER_BYTES = 8192;
  private static final int RESPONSE_BUFFER_BYTES = 8192;
  private static final int MAX_QUEUED_BYTES = 1024 * 1024;

  private final Server server = new Server();
  private final ServerConnector connector;
  private final FloorFeed feed;
  private final AtomicInteger clients = new AtomicInteger();

  JettyFloorServer(int threads, int feedPort) throws Exception {
    HttpConfiguration http = new HttpConfiguration();
    http.setHeaderCacheSize(0);
    http.setOutputBufferSize(OUTPUT_BUFFER_BYTES);
    connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    connector.setAcceptQueueSize(BACKLOG);
    connector.setIdleTimeout(TimeUnit.HOURS.toMillis(1));
    server.addConnector(connector);

    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    ServletHolder holder = new ServletHolder("floor", new FloorServlet());
    holder.setAsyncSupported(true);
    context.addServlet(holder, "/*");
    server.setHandler(context);

    feed = new FloorFeed("jetty-floor", threads, feedPort);
    server.start();
  }

  @Override
  public int port() {
    return connector.getLocalPort();
  }

  @Override
  public int clients() {
    return clients.get();
  }

  @Override
  public String description() {
    return "bare Jetty, " + feed.threads() + " writer threads";
  }

  @Override
  public void close() {
    feed.close();
    try {
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("Jetty did not stop", e);
    }
  }

  /** Answers {@code GET /t/<topic>[,<topic>...]} with a stream that stays open. */
  private final class FloorServlet extends HttpServlet {
    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      Set<Integer> topics = Workload.baselineTopics(request.getRequestURI());
      if (topics == null) {
        response.sendError(404);
        return;
      }
      response.setStatus(200);
      response.setContentType("text/event-stream");
      response.setHeader("Cache-Control", "no-cache");
      response.setBufferSize(RESPONSE_BUFFER_BYTES);
      AsyncContext async = request.startAsync();
      async.setTimeout(0);
      Stream stream = new Stream(async, response.getOutputStream());
      clients.incrementAndGet();
      feed.add(stream, topics);
      // Jetty calls onWritePossible once this returns, which sends the headers.
      stream.out.setWriteListener(stream);
    }
  }

  /** One client: the frames that wait for its output, written under the stream's lock. */
  private final class Stream implements FloorFeed.Client, WriteListener {
    final AsyncContext async;
    final ServletOutputStream out;
    private final ArrayDeque<byte[]> queued = new ArrayDeque<>();
    private int queuedBytes;
    private boolean writable;
    private boolean unflushed = true;
    private boolean open = true;

    Stream(AsyncContext async, ServletOutputStream out) {
      this.async = async;
      this.out = out;
    }

    @Override
    public synchronized boolean send(byte[] frame) {
      if (!open) {
        return false;
      }
      if (!queued.isEmpty() && queuedBytes + frame.length > MAX_QUEUED_BYTES) {
        gone();
        return false;
      }
      queued.add(frame);
      queuedBytes += frame.length;
      if (writable) {
        drain();
      }
      return open;
    }

    @Override
    public synchronized void onWritePossible() {
      writable = true;
      drain();
    }

    @Override
    public synchronized void onError(Throwable error) {
      gone();
    }

    /** Writes what waits while the output is ready, then flushes once. Under the lock. */
    private void drain() {
      try {
        while (open && out.isReady()) {
          byte[] frame = queued.poll();
          if (frame != null) {
            queuedBytes -= frame.length;
            out.write(frame);
            unflushed = true;
          } else if (unflushed) {
            unflushed = false;
            out.flush();
          } else {
            return;
          }
        }
      } catch (IOException e) {
        gone();
      }
    }

    /** Forgets the client and ends its response; once. Under the lock. */
    private void gone() {
      if (!open) {
        return;
      }
      open = false;
      queued.clear();
      clients.decrementAndGet();
      try {
        async.complete();
      } catch (IllegalStateException alreadyEnded) {
        // Jetty ended it first.
      }
    }
  }
}
