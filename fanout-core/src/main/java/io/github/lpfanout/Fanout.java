package io.github.lpfanout;

import io.github.lpfanout.internal.DaemonThreads;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every transport calls: turns a stream request into a refusal or an admitted {@link
 * ClientStream}, and keeps the streams alive with heartbeats.
 *
 * <p>{@link #open} reads the request target, asks the {@link Authorizer}, and only if the client is
 * admitted subscribes it to its URLs in the {@link PollerRegistry}. Nothing is polled and no frame
 * is queued before the decision, and the URLs subscribed are exactly the URLs authorized.
 *
 * <p>A transport is a thin adapter: it passes the raw target, the headers and the client's address,
 * writes the refusal or the response headers, then writes the stream's frames until the stream is
 * finished. See {@link ClientStream} for the writing contract. Every rule lives here or in the
 * classes this calls, so that a transport routes each request by method and target, and nothing
 * else:
 *
 * <ul>
 *   <li>If {@link #isPostback} says the target is the postback endpoint, whatever the method: read
 *       the body, at most {@link #maxPostbackBytes()} plus one bytes, and send the answer of
 *       {@link #postback}.
 *   <li>Else {@code OPTIONS}: send the answer of {@link #preflight}.
 *   <li>Else {@code GET}: {@link #open}. A stream resumes from the client's {@code Last-Event-ID}
 *       header, and CORS headers come with the stream's {@link ClientStream#responseHeaders()} or
 *       the refusal's headers, so the transport needs nothing more for either.
 *   <li>Else: 405.
 * </ul>
 *
 * <p>A client joining a URL first receives its latest message ({@link Builder#latestOnJoin}); a
 * client that reconnects with the id of the last event it received, in {@code Last-Event-ID} or
 * in the query form's {@code lastEventId} parameter, first receives what it missed. See {@link
 * StartFrom} and {@link History}.
 *
 * <p>A {@code Fanout} owns its registry and its authorizer: {@link #close()} closes both. Thread-
 * safe.
 */
public final class Fanout implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Fanout.class);
  private static final String DEFAULT_POSTBACK_PATH = "publish";

  private final PollerRegistry registry;
  private final Authorizer authorizer;
  private final TargetParser parser;
  private final long maxPendingBytes;
  private final Duration heartbeatInterval;
  private final Duration shutdownGrace;
  private final ScheduledExecutorService scheduler;
  private final boolean ownsScheduler;
  private final ScheduledFuture<?> heartbeats;
  private final Set<ClientStream> streams = ConcurrentHashMap.newKeySet();
  private final AtomicInteger clients = new AtomicInteger();
  private final int maxClients;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CorsPolicy cors;
  private final Postbacks postbacks;
  private final TargetParser postbackParser;
  private final String postbackPath;
  private final boolean latestOnJoin;
  private final Duration retry;
  /** Each format's first frame and heartbeat, made once and shared by every stream. */
  private final Map<FrameEncoder, FixedFrames> fixedFrames = new IdentityHashMap<>();

  private Fanout(Builder builder) {
    this.registry =
        builder.registry != null ? builder.registry : PollerRegistry.newBuilder().build();
    this.authorizer = builder.authorizer;
    this.parser =
        new TargetParser(builder.encoders, builder.maxUrlsPerClient, builder.maxTargetLength);
    this.maxPendingBytes = builder.maxPendingBytes;
    this.maxClients = builder.maxClients;
    this.cors = builder.cors;
    this.postbacks = builder.postbacks;
    // Postback targets are read by the stream rules, so a URL is named the same in both.
    this.postbackParser = postbacks == null ? null : new TargetParser(
        Map.of(postbacks.path(), FrameEncoder.binary()), Integer.MAX_VALUE,
        builder.maxTargetLength);
    this.postbackPath = postbacks != null ? postbacks.path()
        : builder.encoders.containsKey(DEFAULT_POSTBACK_PATH) ? null : DEFAULT_POSTBACK_PATH;
    this.latestOnJoin = builder.latestOnJoin;
    this.retry = builder.retry;
    for (FrameEncoder encoder : builder.encoders.values()) {
      fixedFrames.put(encoder, FixedFrames.of(encoder, retry));
    }
    this.heartbeatInterval = builder.heartbeatInterval;
    this.shutdownGrace = builder.shutdownGrace;
    this.ownsScheduler = builder.scheduler == null;
    this.scheduler = ownsScheduler ? newScheduler() : builder.scheduler;

    long period = Math.max(10, Math.min(1000, heartbeatInterval.toMillis() / 2));
    this.heartbeats =
        scheduler.scheduleAtFixedRate(this::sendHeartbeats, period, period, TimeUnit.MILLISECONDS);
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  private static ScheduledExecutorService newScheduler() {
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(1, DaemonThreads.named("fanout-heartbeat"));
    executor.setRemoveOnCancelPolicy(true);
    return executor;
  }

  /**
   * Decides on one stream request. The stage completes on the authorizer's thread, or at once for a
   * request refused before authorization. It never completes exceptionally.
   *
   * <p>With a {@link CorsPolicy}, the admitted stream's headers and any refusal's headers carry
   * the CORS headers that apply to the request's {@code Origin}.
   */
  public CompletableFuture<Admission> open(StreamRequest request) {
    Map<String, String> corsHeaders = cors == null ? Map.of() : cors.responseHeaders(request);
    CompletableFuture<Admission> admission = decide(request, corsHeaders);
    return corsHeaders.isEmpty()
        ? admission
        : admission.thenApply(answer -> withHeaders(answer, corsHeaders));
  }

  private static Admission withHeaders(Admission admission, Map<String, String> extra) {
    if (!(admission instanceof Admission.Refused refused)) {
      return admission;
    }
    Refusal refusal = refused.refusal();
    Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    headers.putAll(refusal.headers());
    extra.forEach((name, value) -> headers.merge(name, List.of(value),
        (old, added) -> List.of(String.join(", ", old) + ", " + value)));
    return new Admission.Refused(new Refusal(refusal.status(), headers, refusal.body()));
  }

  private CompletableFuture<Admission> decide(
      StreamRequest request, Map<String, String> corsHeaders) {
    if (closed.get()) {
      return refused(Refusal.of(503, "server is shutting down"));
    }

    if (request.header("Via").stream().anyMatch(via -> via.contains(registry.via()))) {
      return refused(Refusal.of(508, "loop detected: this request comes from this fanout's own "
          + "poller, which would then poll itself"));
    }

    TargetParser.Target target;
    try {
      target = parser.parse(request.target());
    } catch (TargetParser.BadTarget e) {
      return refused(e.refusal());
    }

    List<UpstreamUrl> urls = target.urls();
    for (int i = 0; i < urls.size(); i++) {
      String refusal = registry.urlPolicy().refusal(urls.get(i));
      if (refusal != null) {
        return refused(Refusal.of(403, "URL " + (i + 1) + " may not be polled: " + refusal));
      }
    }
    if (clients.get() >= maxClients) {
      return refused(tooManyClients());
    }

    List<String> spellings = urls.stream().map(UpstreamUrl::spelling).toList();
    CompletionStage<AuthDecision> decision;
    try {
      decision = Objects.requireNonNull(
          authorizer.authorize(new AuthRequest(spellings, request)), "the authorizer's stage");
    } catch (RuntimeException e) {
      log.warn("Authorizer {} threw", authorizer, e);
      return refused(Refusal.of(503, "authorization failed"));
    }

    CompletableFuture<Admission> admission = new CompletableFuture<>();
    decision.whenComplete((answer, error) ->
        admission.complete(admit(request, corsHeaders, target, answer, error)));
    return admission;
  }

  private Admission admit(StreamRequest request, Map<String, String> corsHeaders,
      TargetParser.Target target, AuthDecision decision, Throwable error) {
    if (error != null || decision == null) {
      log.warn("Authorizer {} failed", authorizer, error);
      return new Admission.Refused(Refusal.of(503, "authorization failed"));
    }
    if (!decision.isAllowed()) {
      return new Admission.Refused(decision.refusal());
    }

    if (!reserveClient()) {
      return new Admission.Refused(tooManyClients());
    }
    FixedFrames fixed = fixedFrames.get(target.encoder());
    ClientStream stream = new ClientStream(target.encoder(), corsHeaders, fixed.first(),
        fixed.heartbeat(), target.urls(), describe(request), maxPendingBytes, registry.counters(),
        this::ended);
    streams.add(stream);
    try {
      stream.attach(registry.subscribe(target.urls(), stream, startFrom(request)));
    } catch (RegistryFullException e) {
      stream.close();
      return new Admission.Refused(Refusal.of(503, e.getMessage()));
    } catch (IllegalArgumentException e) {
      stream.close();
      return new Admission.Refused(Refusal.of(403, e.getMessage()));
    } catch (IllegalStateException closing) {
      stream.close();
      return new Admission.Refused(Refusal.of(503, "server is shutting down"));
    }
    if (closed.get()) {
      stream.finish();
    }
    return new Admission.Admitted(stream);
  }

  /** Where a new stream starts: after the client's last event, or at the latest message. */
  private StartFrom startFrom(StreamRequest request) {
    String lastEventId = LastEventId.of(request);
    if (lastEventId != null) {
      return StartFrom.after(lastEventId);
    }
    return latestOnJoin ? StartFrom.latest() : StartFrom.live();
  }

  /**
   * The whole answer to an {@code OPTIONS} request for a stream: with a {@link CorsPolicy}, 204
   * for a preflight it allows and 403 for one it does not; without one, 405.
   */
  public Refusal preflight(StreamRequest request) {
    if (cors == null) {
      return new Refusal(405, Map.of("Allow", List.of("GET"), "Content-Type",
          List.of("text/plain; charset=utf-8")), bytes("only GET opens a stream\n"));
    }
    return cors.preflight(request);
  }

  /**
   * Whether {@code target}, a raw request target relative to the mount point, is the postback
   * endpoint. Without {@link Builder#postbacks}, {@code /publish} still is (unless a stream format
   * has that name), so that {@link #postback} answers it 404: the endpoint is closed.
   */
  public boolean isPostback(String target) {
    if (postbackPath == null) {
      return false;
    }
    String relative = target.startsWith("/") ? target.substring(1) : target;
    String path = postbackPath;
    return relative.startsWith(path) && (relative.length() == path.length()
        || relative.charAt(path.length()) == '/' || relative.charAt(path.length()) == '?');
  }

  /** The most body bytes a postback may carry; 0 without {@link Builder#postbacks}. */
  public long maxPostbackBytes() {
    return postbacks == null ? 0 : postbacks.maxBodyBytes();
  }

  /**
   * Answers a request to the postback endpoint (see {@link Postbacks}), publishing its body to
   * the URL it names if it proves the secret. Runs on the calling thread; the message is then
   * delivered on the registry's delivery thread.
   *
   * @param method the request method; only {@code POST} publishes
   * @param request the raw target, the headers, including {@code Content-Type}, and the address
   * @param body the request body, or its first {@link #maxPostbackBytes()} plus one bytes if it
   *     is longer
   * @return 202 with the message's id, or the refusal: 404, 405, 400, 413, 401 or 503
   */
  public Refusal postback(String method, StreamRequest request, byte[] body) {
    if (postbacks == null || !isPostback(request.target())) {
      return Refusal.of(404, "no postback endpoint here: it is closed until a secret is set");
    }
    if (!method.equals("POST")) {
      return new Refusal(405, Map.of("Allow", List.of("POST"), "Content-Type",
          List.of("text/plain; charset=utf-8")), bytes("only POST publishes\n"));
    }

    UpstreamUrl url;
    try {
      List<UpstreamUrl> urls = postbackParser.parse(request.target()).urls();
      if (urls.size() != 1) {
        return Refusal.of(400, "a postback names one URL, not " + urls.size());
      }
      url = urls.get(0);
    } catch (TargetParser.BadTarget e) {
      return e.refusal();
    }
    if (body.length > postbacks.maxBodyBytes()) {
      return Refusal.of(413, "the body is larger than " + postbacks.maxBodyBytes() + " bytes");
    }
    String unproven = postbacks.refusal(request, url.spelling(), body);
    if (unproven != null) {
      log.debug("Postback for {} from {} refused: {}", url.spelling(), request.remoteAddress(),
          unproven);
      return new Refusal(401, Map.of("WWW-Authenticate", List.of(postbacks.challenge()),
          "Content-Type", List.of("text/plain; charset=utf-8")), bytes(unproven + "\n"));
    }

    List<String> type = request.header("Content-Type");
    try {
      MessageId id = registry.publish(url, body, type.isEmpty() ? null : type.get(0));
      return new Refusal(202, Map.of("Content-Type", List.of("text/plain; charset=utf-8")),
          bytes(id + "\n"));
    } catch (IllegalArgumentException e) {
      return Refusal.of(413, e.getMessage());
    } catch (IllegalStateException closing) {
      return Refusal.of(503, "server is shutting down");
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * A format's frames that carry no message. A stream starts with the first: the format's opening,
   * or else a heartbeat. Either way the writer has a frame to write at once, so the response
   * headers reach the client when it is admitted, not with the first message, which may be long
   * in coming.
   */
  private record FixedFrames(Frame first, Frame heartbeat) {
    static FixedFrames of(FrameEncoder encoder, Duration retry) {
      Frame heartbeat = Frame.of(encoder.heartbeat());
      byte[] opening = encoder.opening(retry);
      return new FixedFrames(opening.length > 0 ? Frame.of(opening) : heartbeat, heartbeat);
    }
  }

  private boolean reserveClient() {
    for (int count = clients.get(); count < maxClients; count = clients.get()) {
      if (clients.compareAndSet(count, count + 1)) {
        return true;
      }
    }
    return false;
  }

  private void ended(ClientStream stream) {
    if (streams.remove(stream)) {
      clients.decrementAndGet();
    }
  }

  private Refusal tooManyClients() {
    return Refusal.of(503, "too many clients: at most " + maxClients + "; try again later");
  }

  private static String describe(StreamRequest request) {
    String address = request.remoteAddress() == null ? "client" : request.remoteAddress();
    return address + " " + request.target();
  }

  private static CompletableFuture<Admission> refused(Refusal refusal) {
    return CompletableFuture.completedFuture(new Admission.Refused(refusal));
  }

  private void sendHeartbeats() {
    long now = System.nanoTime();
    long interval = heartbeatInterval.toNanos();
    for (ClientStream stream : streams) {
      stream.heartbeatIfIdle(now, interval);
    }
  }

  /** The poller registry clients are subscribed in. */
  public PollerRegistry registry() {
    return registry;
  }

  /** How many clients are connected now. */
  public int clientCount() {
    return clients.get();
  }

  /** A snapshot of the clients, subscriptions, polls and totals now. */
  public FanoutStats stats() {
    Counters counters = registry.counters();
    return new FanoutStats(clientCount(), registry.subscriptionCount(), registry.pollerCount(),
        counters.requestsInFlight.get(), counters.messagesDelivered.sum(),
        counters.bytesDelivered.sum(), counters.clientsDroppedSlow.sum(),
        counters.upstreamErrors());
  }

  /**
   * Ends every stream and stops. New requests are refused with 503. Each writer may first write
   * the frames already queued for it, for up to the shutdown grace; streams still open after it
   * are cut off. Then the registry and, if it is {@link AutoCloseable}, the authorizer are closed.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }

    List<ClientStream> open = new ArrayList<>(streams);
    for (ClientStream stream : open) {
      stream.finish();
    }
    registry.close();
    awaitStreamsEnded();
    for (ClientStream stream : new ArrayList<>(streams)) {
      stream.abort();
    }

    heartbeats.cancel(false);
    if (ownsScheduler) {
      HttpClients.stop(scheduler);
    }
    if (authorizer instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        log.warn("Closing authorizer {} failed", authorizer, e);
      }
    }
    log.info("Fanout closed; {} client streams ended", open.size());
  }

  private void awaitStreamsEnded() {
    long deadline = System.nanoTime() + shutdownGrace.toNanos();
    while (!streams.isEmpty() && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Configures a {@link Fanout}. Not thread-safe. */
  public static final class Builder {
    private PollerRegistry registry;
    private Authorizer authorizer;
    private ScheduledExecutorService scheduler;
    private final Map<String, FrameEncoder> encoders = new LinkedHashMap<>();
    private int maxUrlsPerClient = 64;
    private int maxClients = 10_000;
    private int maxTargetLength = 8192;
    private long maxPendingBytes = 4L * 1024 * 1024;
    private Duration heartbeatInterval = Duration.ofSeconds(15);
    private Duration shutdownGrace = Duration.ofSeconds(2);
    private CorsPolicy cors;
    private Postbacks postbacks;
    private boolean latestOnJoin = true;
    private Duration retry;

    private Builder() {
      encoders.put(FrameEncoder.sse().name(), FrameEncoder.sse());
      encoders.put(FrameEncoder.binary().name(), FrameEncoder.binary());
    }

    /** The registry clients subscribe in; by default a new one with default settings. */
    public Builder registry(PollerRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Who decides on each client. Required: pass {@link Authorizer#allowAll()} to admit every
     * client.
     */
    public Builder authorizer(Authorizer authorizer) {
      this.authorizer = Objects.requireNonNull(authorizer, "authorizer");
      return this;
    }

    /** Runs the heartbeat timer. By default one daemon thread of its own. */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Adds a stream format beside {@code sse} and {@code bin}, served at {@code /<name>/...}.
     *
     * @throws IllegalArgumentException if a format of that name is already added
     */
    public Builder addEncoder(FrameEncoder encoder) {
      String name = encoder.name();
      if (name.isEmpty() || name.contains("/") || name.contains("?")) {
        throw new IllegalArgumentException("encoder name must be one path segment: " + name);
      }
      if (encoders.putIfAbsent(name, encoder) != null) {
        throw new IllegalArgumentException("an encoder named " + name + " is already added");
      }
      return this;
    }

    /** The most distinct URLs one connection may name. Default 64. */
    public Builder maxUrlsPerClient(int maxUrlsPerClient) {
      this.maxUrlsPerClient = atLeastOne("maxUrlsPerClient", maxUrlsPerClient);
      return this;
    }

    /** The most clients connected at once; more are refused with 503. Default 10,000. */
    public Builder maxClients(int maxClients) {
      this.maxClients = atLeastOne("maxClients", maxClients);
      return this;
    }

    /** The longest request target accepted, in characters. Default 8192. */
    public Builder maxTargetLength(int maxTargetLength) {
      this.maxTargetLength = atLeastOne("maxTargetLength", maxTargetLength);
      return this;
    }

    /** The most bytes queued for one client before it is dropped as too slow. Default 4 MiB. */
    public Builder maxPendingBytes(long maxPendingBytes) {
      this.maxPendingBytes = atLeastOne("maxPendingBytes", maxPendingBytes);
      return this;
    }

    /**
     * How long a stream may be idle before a heartbeat is sent. Default 15 s. A heartbeat keeps
     * intermediaries from closing an idle stream, and its write fails once a client has closed its
     * connection, which lets the client go.
     *
     * <p>Note: a client whose host vanished without closing (no FIN, no RST) is found this way
     * too, but only once the kernel gives up retransmitting the unacknowledged heartbeat and a
     * later write fails: it is let go after about this interval plus the kernel's give-up time
     * ({@code net.ipv4.tcp_retries2}, about 15 minutes by default on Linux; 5 gives up after
     * about 13 s), unless the client's bound fills first. With 1 s and {@code tcp_retries2=3},
     * every transport lets it go in about 5 s (tested). Transports give the library no hold on
     * TCP keep-alive or {@code TCP_USER_TIMEOUT}.
     */
    public Builder heartbeatInterval(Duration heartbeatInterval) {
      if (heartbeatInterval.isNegative() || heartbeatInterval.isZero()) {
        throw new IllegalArgumentException(
            "heartbeatInterval must be positive: " + heartbeatInterval);
      }
      this.heartbeatInterval = heartbeatInterval;
      return this;
    }

    /** How long {@link #close()} lets writers drain before cutting streams off. Default 2 s. */
    public Builder shutdownGrace(Duration shutdownGrace) {
      if (shutdownGrace.isNegative()) {
        throw new IllegalArgumentException("shutdownGrace must not be negative: " + shutdownGrace);
      }
      this.shutdownGrace = shutdownGrace;
      return this;
    }

    /** Which pages on other origins may open streams. Default none: CORS is off. */
    public Builder cors(CorsPolicy cors) {
      this.cors = Objects.requireNonNull(cors, "cors");
      return this;
    }

    /** Opens the postback endpoint. Default none: there is no endpoint. */
    public Builder postbacks(Postbacks postbacks) {
      this.postbacks = Objects.requireNonNull(postbacks, "postbacks");
      return this;
    }

    /**
     * Whether a client that joins without a last event id first receives the latest message of
     * each of its URLs that has one. Default true.
     */
    public Builder latestOnJoin(boolean latestOnJoin) {
      this.latestOnJoin = latestOnJoin;
      return this;
    }

    /**
     * The reconnection delay each stream tells its client once, at its start, where the format
     * can say it: SSE's {@code retry:} field. Default none, which leaves the client's own delay
     * (about 3 seconds in browsers).
     */
    public Builder retry(Duration retry) {
      if (retry.isNegative()) {
        throw new IllegalArgumentException("retry must not be negative: " + retry);
      }
      this.retry = retry;
      return this;
    }

    public Fanout build() {
      if (authorizer == null) {
        throw new IllegalStateException(
            "authorizer is required; use Authorizer.allowAll() to admit every client");
      }
      if (postbacks != null && encoders.containsKey(postbacks.path())) {
        throw new IllegalStateException("postbacks path '" + postbacks.path()
            + "' is the name of a stream format; choose another");
      }
      return new Fanout(this);
    }

    private static <T extends Number> T atLeastOne(String name, T value) {
      if (value.longValue() < 1) {
        throw new IllegalArgumentException(name + " must be at least 1: " + value);
      }
      return value;
    }
  }
}
