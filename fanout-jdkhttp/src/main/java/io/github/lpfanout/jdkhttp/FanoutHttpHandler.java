package io.github.lpfanout.jdkhttp;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.github.lpfanout.Admission;
import io.github.lpfanout.ClientStream;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.Frame;
import io.github.lpfanout.Refusal;
import io.github.lpfanout.StreamRequest;
import io.github.lpfanout.internal.VirtualThreads;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
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
 * server has none, and returns at once; it never waits for the authorizer or for data. Give the
 * server an executor all the same: the JDK server reads each request's line and headers on the
 * thread that runs the handler, so without one a client that sends its request slowly holds the
 * dispatcher and stalls every other request. The authorizer's answer arrives on its own thread. A
 * postback's body is read, and the postback answered, on a writer task. An admitted stream is
 * then written by a task of the handler's writer executor whenever frames are queued for it;
 * between frames it holds no thread. The JDK server's response streams block, so a task writing
 * to a client that stopped reading holds its thread until the client reads again or is dropped.
 *
 * <p>The default writer executor makes a virtual thread per task on Java 21 and later. On Java 17
 * it is a small pool of daemon platform threads named {@code fanout-jdkhttp-N}, about one per core,
 * that starts more threads once a write stalls, one for every write then waiting, so that clients
 * that stopped reading hold a thread each and delay no other client.
 *
 * <p>A client that went away is noticed when a write to it fails, at the latest at the second
 * heartbeat after it left (the first write after a peer's close still succeeds). A client too slow
 * for its pending-bytes bound is dropped: the thread writing to it, if any, is interrupted, which
 * breaks a write blocked on its socket.
 *
 * <p>Note: the JDK server leaves Nagle's algorithm on unless the system property {@code
 * sun.net.httpserver.nodelay} is {@code true} when the first server is created; without it, a frame
 * written soon after another can wait for the client's delayed acknowledgement, tens of
 * milliseconds.
 */
public final class FanoutHttpHandler implements HttpHandler, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FanoutHttpHandler.class);
  /** A write that has not returned after this long is taken for a client that stopped reading. */
  private static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final Fanout fanout;
  private final Executor writers;
  private final WriterPool ownedPool;
  private final Set<StreamWriter> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /** Serves {@code fanout} with a writer executor of the handler's own; see the class notes. */
  public FanoutHttpHandler(Fanout fanout) {
    this.fanout = Objects.requireNonNull(fanout, "fanout");
    Executor virtual = virtualThreads();
    if (virtual != null) {
      this.writers = virtual;
      this.ownedPool = null;
    } else {
      int size = Math.max(2, Runtime.getRuntime().availableProcessors());
      this.ownedPool = new WriterPool(size, STALL_NANOS);
      this.writers = ownedPool;
    }
  }

  /**
   * Serves {@code fanout}, writing streams with tasks of {@code writers}. A task runs while a
   * stream has frames to write, so the executor needs no thread per client; but a task blocked on a
   * client that stopped reading keeps its thread until the client is dropped, so a small fixed pool
   * lets a few such clients delay the others. The handler does not shut {@code writers} down.
   */
  public FanoutHttpHandler(Fanout fanout, ExecutorService writers) {
    this.fanout = Objects.requireNonNull(fanout, "fanout");
    this.writers = Objects.requireNonNull(writers, "writers");
    this.ownedPool = null;
  }

  /**
   * Starts a new virtual thread per task, or returns null before Java 21. The threads are not
   * tracked, as {@code Executors.newVirtualThreadPerTaskExecutor()} tracks them in a concurrent
   * set: that add and remove, once per write task, cost a broadcast more than a seventh of its CPU
   * time. The handler ends the streams it writes itself when closed.
   */
  private static Executor virtualThreads() {
    ThreadFactory factory = VirtualThreads.factory(null);
    return factory == null ? null : task -> factory.newThread(task).start();
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    String method = exchange.getRequestMethod();
    StreamRequest request =
        StreamRequest.of(relativeTarget(exchange), exchange.getRequestHeaders(), remote(exchange));
    if (fanout.isPostback(request.target())) {
      execute(exchange, () -> postback(exchange, method, request));
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
    if (admission instanceof Admission.Admitted admitted) {
      new StreamWriter(exchange, admitted.stream()).start();
      return;
    }
    Refusal refusal = ((Admission.Refused) admission).refusal();
    execute(exchange, () -> refuse(exchange, refusal));
  }

  private void execute(HttpExchange exchange, Runnable task) {
    try {
      writers.execute(task);
    } catch (RejectedExecutionException e) {
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

  private static void refuse(HttpExchange exchange, Refusal refusal) {
    try (exchange) {
      send(exchange, refusal);
    } catch (IOException e) {
      log.debug("Writing to {} failed", exchange.getRemoteAddress(), e);
    }
  }

  /**
   * The raw target after the context path, starting with {@code /}: undecoded path, then the raw
   * query if any. The JDK server reads the request line as ISO-8859-1, so a client's raw UTF-8
   * arrives as one character per byte; such a target is read back as the UTF-8 it was.
   */
  static String relativeTarget(HttpExchange exchange) {
    URI uri = exchange.getRequestURI();
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    String context = exchange.getHttpContext().getPath();
    if (context.endsWith("/")) {
      context = context.substring(0, context.length() - 1);
    }
    String relative = path.startsWith(context) ? path.substring(context.length()) : path;
    String target = uri.getRawQuery() == null ? relative : relative + "?" + uri.getRawQuery();
    return asUtf8(target);
  }

  private static String asUtf8(String latin1) {
    if (latin1.chars().allMatch(c -> c < 0x80)) {
      return latin1;
    }
    byte[] bytes = latin1.getBytes(StandardCharsets.ISO_8859_1);
    CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    try {
      return utf8.decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException notUtf8) {
      return latin1;
    }
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

  /**
   * Ends every stream the handler still writes, and stops the writer threads if the handler made
   * them; an executor passed to the constructor is left running. Close the {@link Fanout} first
   * to let streams end cleanly.
   */
  @Override
  public void close() {
    closed = true;
    for (StreamWriter writer : open) {
      writer.cutOff();
    }
    if (ownedPool != null) {
      // Not shutdownNow: an interrupt would cut off the last chunk of a stream ending cleanly.
      ownedPool.shutdown();
    }
  }

  /**
   * Writes one stream: its headers first, then its frames whenever some are queued, one task at a
   * time. A wake-up while a task runs makes that task look again rather than start another, so
   * the exchange is only ever written by one thread.
   */
  private final class StreamWriter implements Runnable {
    private final HttpExchange exchange;
    private final ClientStream stream;
    private final AtomicInteger wakeups = new AtomicInteger();
    private OutputStream out;
    private boolean ended;
    // Guarded by this: the thread running this writer while it runs. On the handler's own pool only
    // its id is kept, as storing a reference into this long-lived object on every run would dirty
    // a card for G1 to refine on every message.
    private Thread writer;
    private long writerId;
    private boolean writing;

    StreamWriter(HttpExchange exchange, ClientStream stream) {
      this.exchange = exchange;
      this.stream = stream;
    }

    void start() {
      open.add(this);
      stream.onAbort(this::interrupt);
      stream.onAvailable(this::wake);
      wake();
    }

    private void wake() {
      if (wakeups.getAndIncrement() != 0) {
        return;
      }
      try {
        if (closed) {
          throw new RejectedExecutionException("handler closed");
        }
        writers.execute(this);
      } catch (RejectedExecutionException e) {
        // No task runs, and as the count stays up, none ever will: the exchange is ours.
        open.remove(this);
        stream.close();
        exchange.close();
      }
    }

    /**
     * Ends the stream now, on the handler's close: a write in progress is broken off, so the client
     * may see the connection close rather than the last chunk.
     */
    void cutOff() {
      interrupt();
      stream.close();
    }

    @Override
    public void run() {
      enter();
      try {
        int seen = wakeups.get();
        while (!ended) {
          write();
          int left = wakeups.addAndGet(-seen);
          if (left == 0) {
            return;
          }
          seen = left;
        }
      } finally {
        leave();
      }
    }

    /** Writes what is queued, or ends the response if the stream is finished. */
    private void write() {
      try {
        if (out == null) {
          sendHeaders();
        }
        boolean wrote = false;
        for (Frame frame = stream.poll(); frame != null; frame = stream.poll()) {
          frame.writeTo(out);
          wrote = true;
        }
        if (wrote) {
          out.flush();
        }
        if (stream.isFinished()) {
          end();
        }
      } catch (IOException e) {
        log.debug("Writing to {} failed", exchange.getRemoteAddress(), e);
        end();
      }
    }

    private void sendHeaders() throws IOException {
      Headers headers = exchange.getResponseHeaders();
      headers.set("Content-Type", stream.contentType());
      for (Map.Entry<String, String> header : stream.responseHeaders().entrySet()) {
        headers.put(header.getKey(), List.of(header.getValue()));
      }
      exchange.sendResponseHeaders(200, 0);
      out = exchange.getResponseBody();
      out.flush();
    }

    private void end() {
      ended = true;
      open.remove(this);
      stream.close();
      exchange.close();
    }

    private synchronized void enter() {
      if (ownedPool != null) {
        writerId = Thread.currentThread().getId();
      } else {
        writer = Thread.currentThread();
      }
      writing = true;
    }

    private synchronized void leave() {
      writing = false;
      writer = null;
      if (Thread.currentThread().isInterrupted()) {
        Thread.interrupted();
      }
    }

    /** Breaks a write blocked on the socket of a client the library dropped. */
    private synchronized void interrupt() {
      if (!writing) {
        return;
      }
      if (ownedPool != null) {
        ownedPool.interrupt(writerId);
      } else {
        writer.interrupt();
      }
    }
  }
}
