package io.github.lpfanout;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The postback endpoint, where an upstream pushes a new body for a URL instead of waiting to be
 * polled, and the secret it must prove it knows. Give one to {@link Fanout.Builder#postbacks};
 * without one the endpoint is closed: {@code /publish} is answered 404 and publishes nothing.
 *
 * <p>An upstream sends {@code POST <mount>/<path>?url=<percent-encoded URL>} (the path form {@code
 * POST <mount>/<path>/<url>} is read too, by the same rules as a stream's), with the new body and
 * its {@code Content-Type}. The body reaches the URL's subscribers exactly as a polled response
 * would, and the answer is 202 with the message's id as its body. It proves the secret in one of
 * two ways:
 *
 * <ul>
 *   <li>A signature: {@code X-Fanout-Timestamp: <unix seconds>} and {@code X-Fanout-Signature:
 *       sha256=<hex>}, the HMAC-SHA256 under the secret of the timestamp, a {@code .}, the URL as
 *       named (after percent-decoding), a {@code .}, and the body bytes. The URL is signed so that
 *       a signed body cannot be replayed to another URL. A timestamp more than {@link
 *       Builder#signatureWindow} away from the server's clock is refused, and so is a signature
 *       already accepted once. In Python: {@code hmac.new(secret, f"{ts}.{url}.".encode() + body,
 *       "sha256").hexdigest()}.
 *   <li>A bearer token, unless {@link Builder#acceptBearerToken} turned it off: {@code
 *       Authorization: Bearer <secret>}. Simpler, but the secret travels with every request, so
 *       use it only over TLS or loopback.
 * </ul>
 *
 * <p>A request that carries {@code X-Fanout-Signature} is judged by its signature alone. Secrets
 * and signatures are compared in constant time. Wrong, missing, expired or replayed proof is
 * answered 401, and nothing is published. A body over {@link Builder#maxBodyBytes} is 413.
 *
 * <p>Note: accepted signatures are remembered for the window to refuse replays, up to 100,000 of
 * them; past that the oldest are forgotten first, so a replay is then refused only if fewer than
 * that many postbacks were accepted since the original.
 *
 * <p>Thread-safe.
 */
public final class Postbacks {
  static final String TIMESTAMP = "X-Fanout-Timestamp";
  static final String SIGNATURE = "X-Fanout-Signature";
  private static final int MAX_REMEMBERED = 100_000;

  private final byte[] secret;
  private final byte[] secretDigest;
  private final String path;
  private final boolean bearer;
  private final long maxBodyBytes;
  private final Duration window;
  private final InstantSource clock;
  private final Set<String> accepted = new HashSet<>();
  private final ArrayDeque<Remembered> acceptedOldestFirst = new ArrayDeque<>();

  private Postbacks(Builder builder) {
    this.secret = builder.secret.getBytes(StandardCharsets.UTF_8);
    this.secretDigest = sha256(secret);
    this.path = builder.path;
    this.bearer = builder.bearer;
    this.maxBodyBytes = builder.maxBodyBytes;
    this.window = builder.window;
    this.clock = builder.clock;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** The path segment under the transport's mount point that postbacks go to. */
  public String path() {
    return path;
  }

  /** The largest body accepted; a transport reads at most one byte more. */
  public long maxBodyBytes() {
    return maxBodyBytes;
  }

  /**
   * Returns why {@code request} does not prove the secret, as a short phrase, or null if it does.
   * A signature that proves it is remembered, so that the same one is refused from now on.
   *
   * @param url the URL the postback names, as named after decoding
   */
  String refusal(StreamRequest request, String url, byte[] body) {
    List<String> signatures = request.header(SIGNATURE);
    if (!signatures.isEmpty()) {
      return signatureRefusal(request.header(TIMESTAMP), signatures, url, body);
    }
    List<String> authorizations = request.header("Authorization");
    if (bearer && authorizations.size() == 1) {
      String value = authorizations.get(0);
      if (value.regionMatches(true, 0, "Bearer ", 0, 7)) {
        byte[] token = value.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(sha256(token), secretDigest) ? null : "wrong bearer token";
      }
    }
    return bearer ? "a signature or a bearer token is required" : "a signature is required";
  }

  /** The {@code WWW-Authenticate} challenge of a 401. */
  String challenge() {
    return bearer ? "Bearer realm=\"fanout postbacks\"" : "X-Fanout-Signature";
  }

  private String signatureRefusal(
      List<String> timestamps, List<String> signatures, String url, byte[] body) {
    if (timestamps.size() != 1 || signatures.size() != 1) {
      return "exactly one " + TIMESTAMP + " and one " + SIGNATURE + " are required";
    }
    long timestamp;
    try {
      timestamp = Long.parseLong(timestamps.get(0).trim());
    } catch (NumberFormatException e) {
      return TIMESTAMP + " is not a number of seconds";
    }
    long now = clock.instant().getEpochSecond();
    if (Math.abs(now - timestamp) > window.toSeconds()) {
      return "the signature's timestamp is outside the window of " + window.toSeconds() + " s";
    }

    String signature = signatures.get(0).trim().toLowerCase(Locale.ROOT);
    byte[] given;
    try {
      given = signature.startsWith("sha256=")
          ? HexFormat.of().parseHex(signature.substring(7))
          : null;
    } catch (IllegalArgumentException e) {
      given = null;
    }
    if (given == null) {
      return SIGNATURE + " must be sha256=<hex>";
    }
    byte[] expected = hmac(timestamps.get(0).trim() + "." + url + ".", body);
    if (!MessageDigest.isEqual(expected, given)) {
      return "wrong signature";
    }
    return remember(HexFormat.of().formatHex(given), timestamp, now)
        ? null
        : "the signature was already used";
  }

  /** Records an accepted signature; false if it was accepted before. */
  private synchronized boolean remember(String signature, long timestamp, long now) {
    while (!acceptedOldestFirst.isEmpty()
        && (acceptedOldestFirst.peekFirst().expires < now
            || acceptedOldestFirst.size() >= MAX_REMEMBERED)) {
      accepted.remove(acceptedOldestFirst.removeFirst().signature);
    }
    if (!accepted.add(signature)) {
      return false;
    }
    acceptedOldestFirst.addLast(new Remembered(signature, timestamp + window.toSeconds()));
    return true;
  }

  private record Remembered(String signature, long expires) {}

  private byte[] hmac(String prefix, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      mac.update(prefix.getBytes(StandardCharsets.UTF_8));
      return mac.doFinal(body);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  @Override
  public String toString() {
    return "Postbacks{/" + path + ", " + (bearer ? "signature or bearer" : "signature only")
        + ", window " + window + ", max " + maxBodyBytes + " bytes}";
  }

  /** Configures {@link Postbacks}. Not thread-safe. */
  public static final class Builder {
    private String secret;
    private String path = "publish";
    private boolean bearer = true;
    private long maxBodyBytes = 1024 * 1024;
    private Duration window = Duration.ofMinutes(5);
    private InstantSource clock = InstantSource.system();

    private Builder() {}

    /**
     * The secret upstreams prove they know. Required; at least 16 characters, and better 32
     * random ones.
     */
    public Builder secret(String secret) {
      Objects.requireNonNull(secret, "secret");
      if (secret.length() < 16) {
        throw new IllegalArgumentException("secret must be at least 16 characters");
      }
      this.secret = secret;
      return this;
    }

    /**
     * The one path segment, under the transport's mount point, that postbacks go to. It must not
     * be the name of a stream format. Default {@code publish}.
     */
    public Builder path(String path) {
      if (path == null || path.isEmpty() || path.contains("/") || path.contains("?")
          || path.contains("%")) {
        throw new IllegalArgumentException("path must be one plain path segment: " + path);
      }
      this.path = path;
      return this;
    }

    /** Whether {@code Authorization: Bearer <secret>} proves the secret too. Default true. */
    public Builder acceptBearerToken(boolean bearer) {
      this.bearer = bearer;
      return this;
    }

    /** The largest body a postback may carry; a larger one is 413. Default 1 MiB. */
    public Builder maxBodyBytes(long maxBodyBytes) {
      if (maxBodyBytes < 0 || maxBodyBytes == Long.MAX_VALUE) {
        throw new IllegalArgumentException("maxBodyBytes must be 0 or more: " + maxBodyBytes);
      }
      this.maxBodyBytes = maxBodyBytes;
      return this;
    }

    /**
     * How far a signature's timestamp may be from the server's clock, either way; older ones are
     * refused as replays. Default 5 minutes.
     */
    public Builder signatureWindow(Duration window) {
      if (window.isNegative() || window.isZero()) {
        throw new IllegalArgumentException("signatureWindow must be positive: " + window);
      }
      this.window = window;
      return this;
    }

    /** The clock timestamps are checked against; for tests. */
    Builder clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** @throws IllegalStateException if no secret was given */
    public Postbacks build() {
      if (secret == null) {
        throw new IllegalStateException("secret is required: the postback endpoint is closed "
            + "without one; leave postbacks unset for no endpoint");
      }
      return new Postbacks(this);
    }
  }
}
