package io.github.lpfanout;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks an auth server whether a client may subscribe.
 *
 * <p>For each client it sends a {@code POST} to the auth URL whose body is the comma-separated list
 * of URLs as the client wrote them ({@code text/plain; charset=utf-8}). The client's headers named
 * by {@link Builder#forwardedHeaders} (by default {@code Cookie} and {@code Authorization}) are
 * copied onto that request, and {@code X-Forwarded-For} gains the client's address.
 *
 * <p>A 200 admits the client. Any other answer is relayed to the client with its status, its body
 * (up to {@link Builder#maxRelayedBodyBytes}) and its {@code Content-Type}, {@code
 * WWW-Authenticate} and {@code Location} headers. An auth server that cannot be reached or does not
 * answer within {@link Builder#timeout} refuses the client with 503, and so does one that already
 * has {@link Builder#maxConcurrentRequests} requests in flight: the authorizer fails closed. So
 * that one source cannot take every one of those slots, a client whose source already has {@link
 * Builder#maxConcurrentRequestsPerAddress} requests in flight is refused with 429; a source is an
 * IPv4 address, or an IPv6 /64, since every IPv6 host has a /64 of its own. The call is
 * asynchronous: no thread waits for the auth server.
 *
 * <p>Thread-safe. {@link #close()} stops the HTTP client this authorizer made for itself; a client
 * passed to the builder is left alone.
 */
public final class HttpAuthorizer implements Authorizer, Closeable {
  private static final Logger log = LoggerFactory.getLogger(HttpAuthorizer.class);
  private static final MediaType TEXT_PLAIN = MediaType.get("text/plain; charset=utf-8");
  /** What an IPv6 literal, with a zone perhaps, may look like; it is parsed to be sure. */
  private static final Pattern IPV6_LITERAL = Pattern.compile("[0-9A-Fa-f:.%]*:[0-9A-Za-z:.%]*");
  private static final List<String> RELAYED_HEADERS =
      List.of("Content-Type", "WWW-Authenticate", "Location");

  private final HttpUrl authUrl;
  private final OkHttpClient client;
  private final boolean ownsClient;
  private final List<String> forwardedHeaders;
  private final Duration timeout;
  private final int maxRelayedBodyBytes;
  private final Semaphore inFlight;
  private final int maxPerAddress;
  private final ConcurrentHashMap<String, Integer> inFlightByAddress = new ConcurrentHashMap<>();
  private final AtomicBoolean failing = new AtomicBoolean();

  private HttpAuthorizer(Builder builder) {
    this.authUrl = builder.authUrl;
    this.timeout = builder.timeout;
    this.ownsClient = builder.client == null;
    OkHttpClient base =
        ownsClient
            ? HttpClients.create("fanout-auth", builder.timeout, builder.maxConcurrentRequests)
            : builder.client;
    this.client = base.newBuilder().callTimeout(builder.timeout).build();
    this.forwardedHeaders = List.copyOf(builder.forwardedHeaders);
    this.maxRelayedBodyBytes = builder.maxRelayedBodyBytes;
    this.inFlight = new Semaphore(builder.maxConcurrentRequests);
    this.maxPerAddress = builder.maxConcurrentRequestsPerAddress;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** The URL this authorizer posts to. */
  public HttpUrl authUrl() {
    return authUrl;
  }

  @Override
  public CompletionStage<AuthDecision> authorize(AuthRequest request) {
    Request authRequest;
    try {
      authRequest = new Request.Builder()
          .url(authUrl)
          .headers(forwardedHeaders(request.request()))
          .post(RequestBody.create(String.join(",", request.urls()), TEXT_PLAIN))
          .build();
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(
          AuthDecision.deny(Refusal.of(400, "a request header cannot be forwarded: "
              + e.getMessage().replaceAll("\\p{Cntrl}", "?"))));
    }
    String address = source(request.request().remoteAddress());
    if (!acquireForAddress(address)) {
      return CompletableFuture.completedFuture(AuthDecision.deny(
          Refusal.of(429, "too many authorizations pending from this address; try again later")));
    }
    if (!inFlight.tryAcquire()) {
      releaseForAddress(address);
      return CompletableFuture.completedFuture(
          AuthDecision.deny(Refusal.of(503, "auth server busy; try again later")));
    }

    CompletableFuture<AuthDecision> decision = new CompletableFuture<>();
    // The caller's stages hang off the returned stage, so they run after the slots came back:
    // ones added to the same future would run first, and a client admitted by one of them could
    // ask again while its address still counted the answered request.
    CompletionStage<AuthDecision> released = decision.whenComplete((answer, error) -> {
      inFlight.release();
      releaseForAddress(address);
    });
    client.newCall(authRequest).enqueue(new Callback() {
      @Override
      public void onResponse(Call call, Response response) {
        try (response) {
          decision.complete(decide(response));
          recovered();
        } catch (IOException e) {
          decision.complete(unavailable(e));
        } catch (RuntimeException e) {
          log.warn("Reading the answer of auth server {} failed", authUrl, e);
          decision.complete(AuthDecision.deny(Refusal.of(502, "auth server answer unreadable")));
        }
      }

      @Override
      public void onFailure(Call call, IOException e) {
        decision.complete(unavailable(e));
      }
    });
    return released;
  }

  /**
   * What the per-address share is counted by: an IPv4 address as it is, an IPv6 address by its
   * /64 (an IPv4-mapped one as its IPv4 address), and anything that is not an address literal as
   * its text. Null if the address is unknown.
   */
  static String source(String address) {
    if (address == null || !IPV6_LITERAL.matcher(address).matches()) {
      return address;
    }
    int zone = address.indexOf('%');
    String literal = zone < 0 ? address : address.substring(0, zone);
    InetAddress parsed;
    try {
      // Only a literal gets here, and a literal with a colon is parsed, never looked up.
      parsed = InetAddress.getByName(literal);
    } catch (UnknownHostException notALiteral) {
      return address;
    }
    if (!(parsed instanceof Inet6Address)) {
      return parsed.getHostAddress();
    }
    byte[] bytes = parsed.getAddress();
    StringBuilder prefix = new StringBuilder();
    for (int i = 0; i < 8; i += 2) {
      prefix.append(Integer.toHexString(((bytes[i] & 0xff) << 8) | (bytes[i + 1] & 0xff)))
          .append(':');
    }
    return prefix.append(":/64").toString();
  }

  /** Counts one more request in flight for {@code address}, unless it has its share already. */
  private boolean acquireForAddress(String address) {
    if (address == null) {
      return true;
    }
    boolean[] acquired = new boolean[1];
    inFlightByAddress.compute(address, (key, count) -> {
      int now = count == null ? 0 : count;
      acquired[0] = now < maxPerAddress;
      return acquired[0] ? now + 1 : count;
    });
    return acquired[0];
  }

  private void releaseForAddress(String address) {
    if (address != null) {
      inFlightByAddress.computeIfPresent(address, (key, count) -> count > 1 ? count - 1 : null);
    }
  }

  private Headers forwardedHeaders(StreamRequest request) {
    Headers.Builder headers = new Headers.Builder();
    for (String name : forwardedHeaders) {
      for (String value : request.header(name)) {
        if (value.chars().anyMatch(c -> (c < 0x20 && c != '\t') || c == 0x7f)) {
          throw new IllegalArgumentException(name + " holds a control character");
        }
        headers.addUnsafeNonAscii(name, value);
      }
    }

    List<String> chain = new ArrayList<>(request.header("X-Forwarded-For"));
    if (request.remoteAddress() != null) {
      chain.add(request.remoteAddress());
    }
    if (!chain.isEmpty()) {
      headers.addUnsafeNonAscii("X-Forwarded-For", String.join(", ", chain));
    }
    return headers.build();
  }

  private AuthDecision decide(Response response) throws IOException {
    if (response.code() == 200) {
      return AuthDecision.allow();
    }
    if (response.code() < 200 || response.code() > 599) {
      log.warn("Auth server {} answered with status {}, which cannot be relayed",
          authUrl, response.code());
      return AuthDecision.deny(Refusal.of(502, "auth server answered with an invalid status"));
    }

    Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    for (String name : RELAYED_HEADERS) {
      List<String> values = response.headers(name);
      if (!values.isEmpty()) {
        headers.put(name, values);
      }
    }
    return AuthDecision.deny(new Refusal(response.code(), headers, cappedBody(response.body())));
  }

  private byte[] cappedBody(ResponseBody body) throws IOException {
    BufferedSource source = body.source();
    source.request(maxRelayedBodyBytes);
    long available = Math.min(source.getBuffer().size(), maxRelayedBodyBytes);
    return source.readByteArray(available);
  }

  private AuthDecision unavailable(IOException e) {
    if (failing.compareAndSet(false, true)) {
      log.warn("Auth server {} is failing, refusing clients with 503: {}", authUrl, e.toString());
    } else {
      log.debug("Auth server {} failed", authUrl, e);
    }
    String reason =
        e instanceof InterruptedIOException
            ? "auth server did not answer within " + timeout.toMillis() + " ms"
            : "auth server unreachable";
    return AuthDecision.deny(Refusal.of(503, reason));
  }

  private void recovered() {
    if (failing.compareAndSet(true, false)) {
      log.info("Auth server {} answers again", authUrl);
    }
  }

  @Override
  public void close() {
    if (ownsClient) {
      HttpClients.shutdown(client);
    }
  }

  @Override
  public String toString() {
    return "HttpAuthorizer{" + authUrl + "}";
  }

  /** Configures an {@link HttpAuthorizer}. Not thread-safe. */
  public static final class Builder {
    private HttpUrl authUrl;
    private OkHttpClient client;
    private List<String> forwardedHeaders = List.of("Cookie", "Authorization");
    private Duration timeout = Duration.ofSeconds(5);
    private int maxRelayedBodyBytes = 64 * 1024;
    private int maxConcurrentRequests = 256;
    private int maxConcurrentRequestsPerAddress = 32;

    private Builder() {}

    /** The auth server's URL, which receives the POST. Required. */
    public Builder authUrl(String authUrl) {
      HttpUrl parsed = HttpUrl.parse(Objects.requireNonNull(authUrl, "authUrl"));
      if (parsed == null) {
        throw new IllegalArgumentException("authUrl is not an http or https URL: " + authUrl);
      }
      this.authUrl = parsed;
      return this;
    }

    /**
     * The client that calls the auth server; by default one of the authorizer's own. Its timeouts
     * are kept, except the call timeout, which becomes {@link #timeout}.
     */
    public Builder client(OkHttpClient client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /** The client headers copied onto the auth request. Default {@code Cookie, Authorization}. */
    public Builder forwardedHeaders(List<String> names) {
      this.forwardedHeaders = List.copyOf(names);
      return this;
    }

    /** How long the auth server may take before the client is refused with 503. Default 5 s. */
    public Builder timeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive: " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /** The most bytes of a denial's body relayed to the client. Default 64 KiB. */
    public Builder maxRelayedBodyBytes(int maxRelayedBodyBytes) {
      if (maxRelayedBodyBytes < 0) {
        throw new IllegalArgumentException(
            "maxRelayedBodyBytes must not be negative: " + maxRelayedBodyBytes);
      }
      this.maxRelayedBodyBytes = maxRelayedBodyBytes;
      return this;
    }

    /**
     * The most auth requests in flight at once. A client that arrives while the auth server is
     * that busy is refused with 503 at once, so a slow auth server cannot pile up waiting clients.
     * Default 256.
     */
    public Builder maxConcurrentRequests(int maxConcurrentRequests) {
      if (maxConcurrentRequests < 1) {
        throw new IllegalArgumentException(
            "maxConcurrentRequests must be at least 1: " + maxConcurrentRequests);
      }
      this.maxConcurrentRequests = maxConcurrentRequests;
      return this;
    }

    /**
     * The most auth requests in flight at once for clients from one source, an IPv4 address or an
     * IPv6 /64, so that one source cannot take all of {@link #maxConcurrentRequests}. A client
     * past it is refused with 429 at once. Default 32.
     *
     * <p>Note: behind a reverse proxy that connects from one address, every client shares this
     * share; raise it to {@code maxConcurrentRequests} there to turn it off. A source with many
     * IPv4 addresses, or many /64s, still gets a share for each.
     */
    public Builder maxConcurrentRequestsPerAddress(int maxConcurrentRequestsPerAddress) {
      if (maxConcurrentRequestsPerAddress < 1) {
        throw new IllegalArgumentException("maxConcurrentRequestsPerAddress must be at least 1: "
            + maxConcurrentRequestsPerAddress);
      }
      this.maxConcurrentRequestsPerAddress = maxConcurrentRequestsPerAddress;
      return this;
    }

    public HttpAuthorizer build() {
      if (authUrl == null) {
        throw new IllegalStateException("authUrl is required");
      }
      return new HttpAuthorizer(this);
    }
  }
}
