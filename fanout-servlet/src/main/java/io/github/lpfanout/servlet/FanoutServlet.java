package io.github.lpfanout.servlet;

import io.github.lpfanout.Admission;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.Refusal;
import io.github.lpfanout.StreamRequest;
import io.github.lpfanout.internal.DaemonThreads;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import javax.servlet.AsyncContext;
import javax.servlet.ServletException;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves fanout streams from any Servlet container, with async processing and non-blocking
 * writes.
 *
 * <p>Mapped at {@code /fanout/*}, it answers {@code GET /fanout/sse/<url>[,<url>...]}, {@code GET
 * /fanout/bin/...} and the query form {@code GET /fanout/sse?url=<encoded url>&url=...}; mapped at
 * {@code /*}, the same without {@code /fanout}. A context path comes in front of either. See {@link
 * Fanout} for what happens to a request. Other methods than GET are answered with 405.
 *
 * <p>The servlet must be registered with async support ({@code <async-supported>true} in {@code
 * web.xml}, {@code setAsyncSupported(true)} in code); without it every request is answered 500.
 * Only the Servlet 3.1 API is used, so Servlet 3.1 and 4 containers serve it: Tomcat 9, Jetty 9.4,
 * Jetty 10 and Jetty 12 with its ee8 environment.
 *
 * <h2>Construction and lifecycle</h2>
 *
 * <ul>
 *   <li>{@link #FanoutServlet()}, for {@code web.xml}: {@link #init()} builds a fanout from the
 *       init parameters below and {@link #destroy()} closes it, so the registry lives exactly as
 *       long as the web application and stops every thread it started.
 *   <li>{@link #FanoutServlet(Supplier)}: the same lifecycle with a fanout the supplier builds in
 *       code when the servlet is initialized.
 *   <li>{@link #FanoutServlet(Fanout)}: serves a fanout the caller made, shares and closes. {@link
 *       #destroy()} leaves it open.
 * </ul>
 *
 * <p>Init parameters; durations are written {@code 500ms}, {@code 15s}, {@code 2m}, {@code 1h} or
 * in ISO-8601 ({@code PT15S}), numbers in ASCII digits with optional underscores ({@code
 * 1_048_576}), and a blank value counts as unset. An unknown name or an invalid value fails {@code
 * init()}. A servlet given its fanout in code takes only {@code response-buffer-bytes}, and fails
 * on any other:
 *
 * <table>
 *   <caption>Init parameters</caption>
 *   <tr><th>name</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code auth-url}</td><td>the auth server that each client's URL list is posted to
 *       </td><td>required, unless {@code no-auth}</td></tr>
 *   <tr><td>{@code no-auth}</td><td>{@code true} admits every client without asking (logs a
 *       warning)</td><td>{@code false}</td></tr>
 *   <tr><td>{@code auth-timeout}</td><td>how long the auth server may take</td><td>5s</td></tr>
 *   <tr><td>{@code auth-max-requests}</td><td>auth requests in flight at once; past it clients
 *       get 503</td><td>256</td></tr>
 *   <tr><td>{@code auth-max-requests-per-address}</td><td>auth requests in flight at once for one
 *       client address (an IPv6 /64); past it that address gets 429. Behind a reverse proxy,
 *       raise it to {@code auth-max-requests}</td><td>32</td></tr>
 *   <tr><td>{@code forwarded-headers}</td><td>comma-separated client headers copied onto the auth
 *       request</td><td>{@code Cookie, Authorization}</td></tr>
 *   <tr><td>{@code max-urls-per-client}</td><td>distinct URLs one connection may name</td>
 *       <td>64</td></tr>
 *   <tr><td>{@code max-target-length}</td><td>longest request target below the mount point, in
 *       characters</td><td>8192</td></tr>
 *   <tr><td>{@code max-pending-bytes}</td><td>bytes queued for a client before it is dropped as
 *       too slow</td><td>4194304</td></tr>
 *   <tr><td>{@code heartbeat-interval}</td><td>idle time before a heartbeat is sent</td>
 *       <td>15s</td></tr>
 *   <tr><td>{@code shutdown-grace}</td><td>how long {@code destroy()} lets streams drain</td>
 *       <td>2s</td></tr>
 *   <tr><td>{@code read-timeout}</td><td>how long an upstream may hold a poll</td><td>2m</td></tr>
 *   <tr><td>{@code min-poll-gap}</td><td>least time between the starts of two polls of a URL</td>
 *       <td>100ms</td></tr>
 *   <tr><td>{@code max-body-bytes}</td><td>largest upstream body delivered</td>
 *       <td>8388608</td></tr>
 *   <tr><td>{@code allow}</td><td>comma-separated URL prefixes that upstreams must start with
 *       </td><td>loopback upstreams only with {@code no-auth}; otherwise any URL but link-local
 *       and cloud metadata addresses</td></tr>
 *   <tr><td>{@code max-clients}</td><td>clients connected at once; more get 503</td>
 *       <td>10000</td></tr>
 *   <tr><td>{@code max-polled-urls}</td><td>distinct upstream URLs polled at once</td>
 *       <td>10000</td></tr>
 *   <tr><td>{@code push-fed}</td><td>comma-separated URL prefixes that are published to, never
 *       polled</td><td>none</td></tr>
 *   <tr><td>{@code retry}</td><td>the {@code retry:} an SSE stream opens with</td>
 *       <td>none</td></tr>
 *   <tr><td>{@code latest-on-join}</td><td>a new client gets each URL's latest message at
 *       once</td><td>{@code true}</td></tr>
 *   <tr><td>{@code cors-allow-origins}</td><td>comma-separated origins allowed to subscribe from
 *       a browser, or {@code *}</td><td>none: CORS off</td></tr>
 *   <tr><td>{@code cors-allow-credentials}</td><td>whether those origins may send cookies</td>
 *       <td>{@code false}</td></tr>
 *   <tr><td>{@code postback-secret}</td><td>opens the postback endpoint, where upstreams publish
 *       with this secret</td><td>none: closed</td></tr>
 *   <tr><td>{@code postback-path}</td><td>where the postback endpoint is, below the mount
 *       point</td><td>{@code publish}</td></tr>
 *   <tr><td>{@code response-buffer-bytes}</td><td>the response buffer each stream asks the
 *       container for, from 1024 to 1048576; read whichever constructor made the servlet</td>
 *       <td>8192</td></tr>
 * </table>
 *
 * <p>The response buffer is a trade-off between memory and system calls. A stream keeps its
 * buffer for as long as it lasts, mostly idle, and the servlet flushes after every batch of frames
 * anyway, so a small buffer suits many clients of small messages. But Jetty writes a frame larger
 * than the buffer in buffer-sized pieces, one system call each: where frames are large and clients
 * fewer, a buffer that holds the largest frame sends each one in a single write. Tomcat slices
 * large writes by its connector's socket write buffer ({@code socket.appWriteBufSize}) as well,
 * and only ever grows a response's buffer, so a value below its 8192 changes nothing there.
 *
 * <h2>Threads</h2>
 *
 * <p>{@link #service} runs on a container thread and returns at once: it starts async processing
 * with no timeout and hands the request to the fanout. Nothing then holds a thread per connection.
 * The answer is written by whichever thread has something for it: a container thread when the
 * output becomes writable again, the authorizer's thread once the client is admitted, and one of
 * the servlet's writer threads when the fanout has a frame for it. The writer threads, daemons
 * named {@code fanout-servlet-writer-N}, one per core, start in {@link #init()} and stop in {@link
 * #destroy()}; without them, the fanout's single delivery thread would make every container write
 * of every client itself. Writes never block, because each one is made
 * only after {@code isReady()} returned true, and one connection's response is used by one thread
 * at a time, never after the container reported an error or completed it: the container recycles
 * those objects for the next connection. A client that does not read fills the container's
 * output buffer, then its own bounded queue in the fanout, and is then dropped: its response is
 * completed, and the container closes the connection once the rest cannot be written within its
 * own write or idle timeout.
 *
 * <p>A client that goes away is unsubscribed from every URL as soon as the container reports it
 * ({@code onError}, {@code onComplete}, a failed write), which for an idle stream is at the next
 * heartbeat at the latest.
 *
 * <h2>The request target</h2>
 *
 * <p>The URL list is read from the raw request URI, never from the decoded and normalized path
 * info, so that {@code %2C}, a URL encoded whole and an upstream's own query string arrive as the
 * client sent them. The servlet strips the context path and servlet path by walking the raw URI
 * one segment at a time and comparing each decoded segment with the decoded mount path, passing
 * over empty and {@code .} segments as containers do when they map a request; everything after
 * the mount point, query string included, goes to the fanout. If the container resolved {@code
 * ..} segments inside the mount path itself, the request is refused with 400. Mapped as the
 * default servlet ({@code /}), the target is everything after the context path.
 *
 * <p>Containers refuse some targets before any servlet sees them, with 400. The query form,
 * {@code /sse?url=<encoded url>}, is refused by none. For the path form, Tomcat 9 needs these
 * {@code Connector} attributes (in {@code server.xml}, or {@code Connector.setProperty} in code):
 *
 * <ul>
 *   <li>{@code encodedSolidusHandling="passthrough"} for an encoded slash {@code %2F}, as in a URL
 *       encoded whole ({@code http%3A%2F%2Fa%2Fx}); {@code encodedReverseSolidusHandling=
 *       "passthrough"} for {@code %5C}. Passthrough leaves them encoded for every application on
 *       the connector, which is safe; {@code decode} would also work here but changes how other
 *       applications map such paths.
 *   <li>{@code relaxedPathChars} and {@code relaxedQueryChars}, for instance <code>
 *       "&lt;&gt;[\]^`{|}</code>, for characters that RFC 3986 does not allow unencoded and that
 *       upstream URLs often contain, such as {@code ?ids=[1,2]} or {@code a|b}.
 * </ul>
 *
 * <p>Jetty 9.4 in its default compliance mode ({@code HttpCompliance.RFC7230}) passes all of
 * these. A collapsed {@code //} after the scheme and an empty segment are passed by both
 * containers. A target with {@code %00} or another encoded control character is refused by both,
 * as the fanout would refuse it anyway.
 *
 * <p>Note: a container may also limit the length of the request line (Tomcat's {@code
 * maxHttpHeaderSize}, Jetty's {@code HttpConfiguration.requestHeaderSize}, both 8 KiB by default),
 * which caps the URL list before {@code max-target-length} does. Keep {@code heartbeat-interval}
 * shorter than the connector's idle timeout (Jetty's is 30 s by default), or idle streams are cut.
 */
public final class FanoutServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;
  private static final Logger log = LoggerFactory.getLogger(FanoutServlet.class);

  private final transient Supplier<Fanout> factory;
  private final transient boolean owns;
  private transient volatile Fanout fanout;
  /** Drains streams woken by the fanout; null until {@link #init()}, when writes run inline. */
  private transient volatile ExecutorService writers;
  private transient volatile int bufferBytes = InitParameters.DEFAULT_RESPONSE_BUFFER_BYTES;

  /** Builds its fanout from the init parameters when initialized; see the class description. */
  public FanoutServlet() {
    this.factory = null;
    this.owns = true;
  }

  /** Serves {@code fanout}, which the caller closes after the servlet is destroyed. */
  public FanoutServlet(Fanout fanout) {
    Objects.requireNonNull(fanout, "fanout");
    this.factory = () -> fanout;
    this.owns = false;
    this.fanout = fanout;
  }

  /** Calls {@code factory} when initialized and closes what it returned when destroyed. */
  public FanoutServlet(Supplier<Fanout> factory) {
    this.factory = Objects.requireNonNull(factory, "factory");
    this.owns = true;
  }

  @Override
  public void init() throws ServletException {
    bufferBytes = InitParameters.responseBufferBytes(getServletConfig());
    if (factory != null) {
      InitParameters.requireServletParametersOnly(getServletConfig());
    }
    if (owns) {
      fanout = factory == null
          ? InitParameters.fanout(getServletConfig())
          : Objects.requireNonNull(factory.get(), "the fanout factory returned null");
    }
    // Threads start with the first task, so a servlet that failed above leaves none behind.
    writers = Executors.newFixedThreadPool(
        Runtime.getRuntime().availableProcessors(), DaemonThreads.named("fanout-servlet-writer"));
  }

  /** The fanout this servlet serves; null before {@link #init()} when the servlet makes it. */
  public Fanout fanout() {
    return fanout;
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response)
      throws IOException {
    Fanout current = fanout;
    if (current == null) {
      sendNow(response, Refusal.of(503, "the fanout servlet is not initialized"));
      return;
    }
    String method = request.getMethod();
    String target = relativeTarget(request);
    if (target != null && current.isPostback(target)) {
      byte[] body = readAtMost(request, current.maxPostbackBytes() + 1);
      sendNow(response, current.postback(method, streamRequest(request, target), body));
      return;
    }
    if (method.equals("OPTIONS") && target != null) {
      sendNow(response, current.preflight(streamRequest(request, target)));
      return;
    }
    if (!method.equals("GET")) {
      response.setHeader("Allow", "GET");
      sendNow(response, Refusal.of(405, "only GET opens a stream"));
      return;
    }
    if (!request.isAsyncSupported()) {
      log.warn("FanoutServlet {} is not registered with async support; set async-supported",
          getServletName());
      sendNow(response, Refusal.of(500, "the fanout servlet needs async support"));
      return;
    }

    AsyncContext async = request.startAsync();
    async.setTimeout(0);
    Executor pumps = writers;
    StreamWriter writer = new StreamWriter(
        async, response, pumps == null ? Runnable::run : pumps, bufferBytes);
    async.addListener(writer);
    writer.start();
    if (target == null) {
      writer.refuse(Refusal.of(400, "the request target does not start with the mount point"));
      return;
    }

    StreamRequest stream = streamRequest(request, target);
    current.open(stream).whenComplete((admission, error) -> {
      if (error != null) {
        log.warn("Opening {} failed", stream, error);
        writer.admit(new Admission.Refused(Refusal.of(503, "the stream could not be opened")));
      } else {
        writer.admit(admission);
      }
    });
  }

  /**
   * The raw target below the mount point: the undecoded path after the context and servlet path,
   * then the raw query. Null if the mount point cannot be found in the raw path.
   */
  static String relativeTarget(HttpServletRequest request) {
    String mountPath = request.getServletContext().getContextPath();
    if (request.getPathInfo() != null) {
      mountPath += request.getServletPath();
    }
    return MountPoint.relativeTarget(request.getRequestURI(), mountPath, request.getQueryString());
  }

  private static StreamRequest streamRequest(HttpServletRequest request, String target) {
    return StreamRequest.of(target, headers(request), request.getRemoteAddr());
  }

  /**
   * Reads the request body up to {@code limit} bytes. A postback's body is small and bounded, so
   * it is read on the container thread, blocking.
   */
  private static byte[] readAtMost(HttpServletRequest request, long limit) throws IOException {
    int cap = (int) Math.min(limit, Integer.MAX_VALUE - 8);
    return request.getInputStream().readNBytes(cap);
  }

  private static Map<String, List<String>> headers(HttpServletRequest request) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (String name : Collections.list(request.getHeaderNames())) {
      headers.computeIfAbsent(name, n -> new ArrayList<>())
          .addAll(Collections.list(request.getHeaders(name)));
    }
    return headers;
  }

  /** Sends a refusal on the request thread, for answers decided before async processing. */
  private static void sendNow(HttpServletResponse response, Refusal refusal) throws IOException {
    response.setStatus(refusal.status());
    refusal.headers().forEach((name, values) -> values.forEach(v -> response.addHeader(name, v)));
    byte[] body = refusal.body();
    response.setContentLength(body.length);
    response.getOutputStream().write(body);
  }

  /**
   * Closes the fanout if this servlet made it, which ends every stream and stops its threads, then
   * stops the writer threads once they have written what was queued.
   */
  @Override
  public void destroy() {
    Fanout current = fanout;
    if (owns && current != null) {
      fanout = null;
      current.close();
    }
    ExecutorService pumps = writers;
    if (pumps != null) {
      writers = null;
      pumps.shutdown();
    }
  }
}
