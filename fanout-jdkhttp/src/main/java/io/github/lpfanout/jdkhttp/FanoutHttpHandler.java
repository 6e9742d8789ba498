package io.github.lpfanout.jdkhttp;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.github.lpfanout.Admission;
import io.github.lpfanout.ClientStream;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.Refusal;
import io.github.lpfanout.StreamRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves fanout streams from a JDK {@code HttpServer} or {@code HttpsServer}, on any context.
 *
 * <p>Mounted at {@code /fanout}, it answers {@code GET /fanout/sse/<url>[,<url>...]}, {@code GET
 * /fanout/bin/...} and the query form {@code GET /fanout/sse?url=...}; see {@link Fanout} for what
 * happens to a request. It also answers CORS preflights ({@code OPTIONS}) with {@link
 * Fanout#preflight}, and, if the fanout has {@linkplain Fanout.Builder#postbacks postbacks}, the
 * postback endpoint: {@code POST /fanout/publish?url=...}. Everything those answers say is decided
 * by the fanout; the handler only carries requests and answers.
 *
 * <p>Threads: {@link #handle} runs on the server's executor, or on its dispatcher thread if the
 * server has none, and returns at once; it never waits for the authorizer or for data, so the
 * server needs no executor of its own for this handler. The authorizer's answer arrives on its own
 * thread. Each admitted stream is then written by one thread of the handler's writer executor for
 * as long as the client stays: the JDK server's response streams block, so each connected client
 * holds one writer thread. The default executor makes daemon threads named {@code
 * fanout-jdkhttp-N} as they are needed, and lets each go after 5 idle seconds. A postback's body
 * is read, and the postback answered, on a writer thread too, so that a slow upstream never holds
 * the server's thread.
 *
 * <p>A client that went away is noticed when a write to it fails, at the latest at the next
 * heartbeat. A client too slow for its pending-bytes bound is dropped: its writer is interrupted,
 * which breaks a write blocked on its socket.
 *
 * <p>Note: with platform threads, each idle client costs a thread and its stack. Pass an executor
 * of virtual threads on Java 21 or later to serve many thousands of idle clients.
 */
public final class FanoutHttpHandler implements HttpHandler, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FanoutHttpHandler.class);

  private final Fanout fanout;
  private final ExecutorService writers;
  private final boolean ownsWriters;

  /** Serves {@code fanout} with a writer executor of the handler's own. */
  public FanoutHttpHandler(Fanout fanout) {
    this(fanout, new ThreadPoolExecutor(0, Integer.MAX_VALUE, 5, TimeUnit.SECONDS,
        new SynchronousQueue<>(), daemonThreads()), true);
  }

  /**
   * Serves {@code fanout}, writing each stream on a thread of {@code writers}, which must be able to
   * run one task per connected client at once. The handler does not shut it down.
   */
  public FanoutHttpHandler(Fanout fanout, ExecutorService writers) {
    this(fanout, writers, false);
  }

  private FanoutHttpHandler(Fanout fanout, ExecutorService writers, boolean ownsWriters) {
    this.fanout = Objects.requireNonNull(fanout, "fanout");
    this.writers = Objects.requireNonNull(writers, "writers");
    this.ownsWriters = ownsWriters;
  }

  private static ThreadFactory daemonThreads() {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, "fanout-jdkhttp-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    String method = exchange.getRequestMethod();
    StreamRequest request =
        StreamRequest.of(relativeTarget(exchange), exchange.getRequestHeaders(), remote(exchange));
    if (fanout.isPostback(request.target())) {
      execute(exchange, () -> postback(exchange, method, request), null);
      return;
    }
    if (method.equals("OPTIONS")) {
      send(exchange, fanout.preflight(request));
      return;
    }
    if (!method.equals("GET")) {
      exchange.getResponseHeaders().set("Allow", "GET");
      send(exchange, Refusal.of(405, "only GET opens a stream"));
      return;
    }

    fanout.open(request).thenAccept(admission -> dispatch(exchange, admission));
  }

  private void dispatch(HttpExchange exchange, Admission admission) {
    Runnable onRejected = admission instanceof Admission.Admitted admitted
        ? admitted.stream()::close
        : null;
    execute(exchange, () -> serve(exchange, admission), onRejected);
  }

  private void execute(HttpExchange exchange, Runnable task, Runnable onRejected) {
    try {
      writers.execute(task);
    } catch (RejectedExecutionException e) {
      if (onRejected != null) {
        onRejected.run();
      }
      exchange.close();
    }
  }

  private void postback(HttpExchange exchange, String method, StreamRequest request) {
    try (exchange) {
      int limit = (int) Math.min(Integer.MAX_VALUE - 8, fanout.maxPostbackBytes() + 1);
      byte[] body = exchange.getRequestBody().readNBytes(limit);
      send(exchange, fanout.postback(method, request, body));
    } catch (IOException e) {
      log.debug("Answering the postback from {} failed", exchange.getRemoteAddress(), e);
    }
  }

  private void serve(HttpExchange exchange, Admission admission) {
    try (exchange) {
      if (admission instanceof Admission.Admitted admitted) {
        stream(exchange, admitted.stream());
      } else {
        send(exchange, ((Admission.Refused) admission).refusal());
      }
    } catch (IOException e) {
      log.debug("Writing to {} failed", exchange.getRemoteAddress(), e);
    }
  }

  /** The raw target after the context path: undecoded path, then the raw query if any. */
  static String relativeTarget(HttpExchange exchange) {
    URI uri = exchange.getRequestURI();
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    String context = exchange.getHttpContext().getPath();
    String relative = path.startsWith(context) ? path.substring(context.length()) : path;
    return uri.getRawQuery() == null ? relative : relative + "?" + uri.getRawQuery();
  }

  private static String remote(HttpExchange exchange) {
    InetSocketAddress address = exchange.getRemoteAddress();
    return address == null || address.getAddress() == null
        ? null
        : address.getAddress().getHostAddress();
  }

  private static void send(HttpExchange exchange, Refusal refusal) throws IOException {
    Headers headers = exchange.getResponseHeaders();
    refusal.headers().forEach(headers::put);
    byte[] body = refusal.body();
    exchange.sendResponseHeaders(refusal.status(), body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      exchange.getResponseBody().write(body);
    }
    exchange.close();
  }

  private static void stream(HttpExchange exchange, ClientStream stream) throws IOException {
    Headers headers = exchange.getResponseHeaders();
    headers.set("Content-Type", stream.contentType());
    for (Map.Entry<String, String> header : stream.responseHeaders().entrySet()) {
      headers.put(header.getKey(), List.of(header.getValue()));
    }

    WriterThread writer = new WriterThread(Thread.currentThread());
    stream.onAbort(writer::interrupt);
    try {
      exchange.sendResponseHeaders(200, 0);
      OutputStream out = exchange.getResponseBody();
      out.flush();
      for (byte[] frame = stream.take(); frame != null; frame = stream.take()) {
        out.write(frame);
        for (frame = stream.poll(); frame != null; frame = stream.poll()) {
          out.write(frame);
        }
        out.flush();
      }
    } catch (InterruptedException e) {
      log.debug("Writer of {} interrupted", stream);
    } finally {
      stream.close();
      writer.release();
    }
  }

  /**
   * Shuts down the writer executor if the handler made it, which ends every stream it writes.
   * Close the {@link Fanout} first to let streams end cleanly.
   */
  @Override
  public void close() {
    if (ownsWriters) {
      writers.shutdownNow();
    }
  }

  /** The thread writing one stream, interrupted only while it still writes that stream. */
  private static final class WriterThread {
    private Thread thread;

    WriterThread(Thread thread) {
      this.thread = thread;
    }

    synchronized void interrupt() {
      if (thread != null) {
        thread.interrupt();
      }
    }

    synchronized void release() {
      thread = null;
      Thread.interrupted();
    }
  }
}
