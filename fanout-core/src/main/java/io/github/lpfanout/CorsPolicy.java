package io.github.lpfanout;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which web pages on other origins may open streams, by the rules of CORS. Give one to {@link
 * Fanout.Builder#cors}; without one, no CORS header is sent and preflights are refused with 405,
 * so only pages of the server's own origin can read streams.
 *
 * <p>Origins are allowed exactly ({@code https://app.example}, {@code http://localhost:3000}), or
 * all at once with {@link Builder#allowAnyOrigin()}. For an allowed origin, stream responses and
 * refusals carry {@code Access-Control-Allow-Origin}: {@code *} when any origin is allowed without
 * credentials, otherwise the request's own {@code Origin}, with {@code Vary: Origin} on every
 * response so that caches keep the answers apart. With {@link Builder#allowCredentials}, the page
 * may send its cookies ({@code new EventSource(url, {withCredentials: true})}), and responses say
 * {@code Access-Control-Allow-Credentials: true}; {@code *} is never sent then.
 *
 * <p>A preflight ({@code OPTIONS} with {@code Access-Control-Request-Method}) from an allowed
 * origin, for {@code GET} and allowed headers only, is answered 204 with the headers the browser
 * needs; any other is refused with 403. A browser sends one before an {@code EventSource}
 * reconnects across origins with {@code Last-Event-ID}, which is therefore always allowed.
 *
 * <p>Immutable and thread-safe.
 */
public final class CorsPolicy {
  private static final Logger log = LoggerFactory.getLogger(CorsPolicy.class);
  private static final String ALLOW_ORIGIN = "Access-Control-Allow-Origin";
  private static final String ALLOW_CREDENTIALS = "Access-Control-Allow-Credentials";

  private final Set<String> origins;
  private final boolean anyOrigin;
  private final boolean credentials;
  private final Map<String, String> headers;
  private final Duration maxAge;

  private CorsPolicy(Builder builder) {
    this.origins = Set.copyOf(builder.origins);
    this.anyOrigin = builder.anyOrigin;
    this.credentials = builder.credentials;
    Map<String, String> byLowerName = new LinkedHashMap<>();
    for (String header : builder.headers) {
      byLowerName.putIfAbsent(header.toLowerCase(Locale.ROOT), header);
    }
    this.headers = Collections.unmodifiableMap(byLowerName);
    this.maxAge = builder.maxAge;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** Whether pages of {@code origin} (as browsers send it in {@code Origin}) may read streams. */
  public boolean allows(String origin) {
    return origin != null && (anyOrigin || origins.contains(origin.toLowerCase(Locale.ROOT)));
  }

  /** Whether the answer depends on the request's origin, so that it must say {@code Vary}. */
  private boolean varies() {
    return !anyOrigin || credentials;
  }

  /** The CORS headers of a response to {@code request}: a stream or a refusal. */
  Map<String, String> responseHeaders(StreamRequest request) {
    Map<String, String> answer = new LinkedHashMap<>();
    String origin = origin(request);
    if (allows(origin)) {
      answer.put(ALLOW_ORIGIN, varies() ? origin : "*");
      if (credentials) {
        answer.put(ALLOW_CREDENTIALS, "true");
      }
    }
    if (varies()) {
      answer.put("Vary", "Origin");
    }
    return answer;
  }

  /** The whole answer to an {@code OPTIONS} request. */
  Refusal preflight(StreamRequest request) {
    String origin = origin(request);
    List<String> methods = request.header("Access-Control-Request-Method");
    if (origin == null || methods.isEmpty()) {
      return answer(204, Map.of("Allow", "GET, OPTIONS"), "");
    }

    Map<String, String> vary = new LinkedHashMap<>();
    vary.put("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    if (!allows(origin)) {
      return answer(403, vary, "origin " + printable(origin) + " may not open streams");
    }
    if (!methods.get(0).equals("GET")) {
      return answer(403, vary, "only GET is allowed across origins");
    }
    List<String> requested = new ArrayList<>();
    for (String value : request.header("Access-Control-Request-Headers")) {
      for (String name : value.split(",")) {
        String trimmed = name.trim();
        if (trimmed.isEmpty()) {
          continue;
        }
        if (!headers.containsKey(trimmed.toLowerCase(Locale.ROOT))) {
          return answer(403, vary, "header " + printable(trimmed) + " is not allowed");
        }
        requested.add(trimmed);
      }
    }

    Map<String, String> allowed = new LinkedHashMap<>();
    allowed.put(ALLOW_ORIGIN, varies() ? origin : "*");
    if (credentials) {
      allowed.put(ALLOW_CREDENTIALS, "true");
    }
    allowed.put("Access-Control-Allow-Methods", "GET");
    if (!requested.isEmpty()) {
      allowed.put("Access-Control-Allow-Headers", String.join(", ", requested));
    }
    allowed.put("Access-Control-Max-Age", String.valueOf(maxAge.toSeconds()));
    allowed.putAll(vary);
    return answer(204, allowed, "");
  }

  private static String origin(StreamRequest request) {
    List<String> values = request.header("Origin");
    return values.size() == 1 ? values.get(0) : null;
  }

  private static Refusal answer(int status, Map<String, String> headers, String reason) {
    Map<String, List<String>> all = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    headers.forEach((name, value) -> all.put(name, List.of(value)));
    if (reason.isEmpty()) {
      return new Refusal(status, all, new byte[0]);
    }
    all.put("Content-Type", List.of("text/plain; charset=utf-8"));
    return new Refusal(status, all, (reason + "\n").getBytes(StandardCharsets.UTF_8));
  }

  private static String printable(String text) {
    String cut = text.length() > 100 ? text.substring(0, 100) + "..." : text;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }

  @Override
  public String toString() {
    return "CorsPolicy{" + (anyOrigin ? "any origin" : origins)
        + (credentials ? ", with credentials" : "") + ", headers " + headers.values() + "}";
  }

  /** Configures a {@link CorsPolicy}. Not thread-safe. */
  public static final class Builder {
    private final Set<String> origins = new LinkedHashSet<>();
    private boolean anyOrigin;
    private boolean credentials;
    private final List<String> headers = new ArrayList<>(List.of("Last-Event-ID"));
    private Duration maxAge = Duration.ofMinutes(10);

    private Builder() {}

    /**
     * Allows pages of {@code origin}: a scheme, a host and an optional port, with no path, as
     * browsers send it in {@code Origin} ({@code https://app.example}, {@code
     * http://localhost:3000}). Compared without regard to case. May be called for several.
     *
     * @throws IllegalArgumentException if {@code origin} is not of that form
     */
    public Builder allowOrigin(String origin) {
      origins.add(checkOrigin(origin));
      return this;
    }

    /**
     * Allows pages of every origin. Without credentials, responses say {@code *}. With {@link
     * #allowCredentials}, each allowed response repeats the page's origin instead.
     *
     * <p>Note: every origin with credentials lets any web page read the streams of a visitor who
     * is logged in to your authorizer by cookie. Use it only when the authorizer does not rely on
     * cookies.
     */
    public Builder allowAnyOrigin() {
      this.anyOrigin = true;
      return this;
    }

    /** Whether pages may send their cookies and HTTP authentication. Default false. */
    public Builder allowCredentials(boolean credentials) {
      this.credentials = credentials;
      return this;
    }

    /**
     * Allows pages to send a request header besides {@code Last-Event-ID}, which is always
     * allowed; for example {@code Authorization} for a client library that sets it. May be called
     * for several.
     */
    public Builder allowHeader(String name) {
      if (name == null || name.isBlank() || !name.chars().allMatch(Builder::isTokenChar)) {
        throw new IllegalArgumentException("allowHeader takes a header name: " + name);
      }
      headers.add(name);
      return this;
    }

    /** How long a browser may keep a preflight's answer. Default 10 minutes. */
    public Builder maxAge(Duration maxAge) {
      if (maxAge.isNegative()) {
        throw new IllegalArgumentException("maxAge must not be negative: " + maxAge);
      }
      this.maxAge = maxAge;
      return this;
    }

    /** @throws IllegalStateException if no origin is allowed */
    public CorsPolicy build() {
      if (origins.isEmpty() && !anyOrigin) {
        throw new IllegalStateException(
            "a CorsPolicy needs allowOrigin(...) or allowAnyOrigin(); leave cors unset for none");
      }
      if (anyOrigin && credentials) {
        log.warn("CORS lets pages of any origin open streams with the visitor's credentials");
      }
      return new CorsPolicy(this);
    }

    private static String checkOrigin(String origin) {
      URI uri;
      try {
        uri = new URI(origin);
      } catch (URISyntaxException | NullPointerException e) {
        throw new IllegalArgumentException("allowOrigin takes scheme://host[:port]: " + origin);
      }
      boolean bare = uri.getScheme() != null && uri.getHost() != null && uri.getUserInfo() == null
          && uri.getRawPath().isEmpty() && uri.getRawQuery() == null
          && uri.getRawFragment() == null;
      if (!bare) {
        throw new IllegalArgumentException(
            "allowOrigin takes scheme://host[:port], with no path or trailing /: " + origin);
      }
      return origin.toLowerCase(Locale.ROOT);
    }

    private static boolean isTokenChar(int c) {
      return c > 0x20 && c < 0x7f && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
    }
  }
}
