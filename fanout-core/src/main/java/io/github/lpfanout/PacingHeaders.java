package io.github.lpfanout;

import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import okhttp3.Headers;

/**
 * Reads the response headers by which an upstream sets the pace of polling: how long a response
 * stays fresh ({@code Cache-Control}, {@code Expires}, {@code Age}, {@code Date}, as RFC 9111
 * defines them for a shared cache), and how long to wait after a refusal ({@code Retry-After}).
 *
 * <p>Every method is a pure function of the headers and the times it is given, in milliseconds of
 * the wall clock ({@link System#currentTimeMillis()}); it never reads a clock itself. Thread-safe.
 *
 * <p>Note: freshness is only what the upstream states. A response with none of these headers is
 * stale at once (no heuristic freshness from {@code Last-Modified}), so such a URL is polled as
 * often as the minimum gap allows, which is what a long-poll server expects. And the time a
 * request was held is not counted as age, as RFC 9111's {@code response_delay} would: a long poll
 * is held by design, and its response was made when it was sent, which its {@code Date} tells.
 */
final class PacingHeaders {
  /** RFC 9111 1.2.2: a delta-seconds too large to represent counts as 2^31 seconds. */
  private static final long MAX_DELTA_SECONDS = 1L << 31;

  private PacingHeaders() {}

  /**
   * How long after {@code nowMillis} a response stays fresh, in milliseconds: its freshness
   * lifetime less its current age. 0 if it is stale already, if it says {@code no-cache} or {@code
   * no-store}, if a freshness directive is malformed, or if it states no freshness at all.
   *
   * <p>The lifetime is {@code s-maxage} if present (this library is a shared cache: one response
   * serves many clients), else {@code max-age}, else {@code Expires} minus {@code Date}. The age
   * at receipt is the larger of the apparent age ({@code responseMillis} minus {@code Date}) and
   * {@code Age}; the time since receipt is added to it.
   *
   * @param headers the response's headers
   * @param responseMillis when the response headers were received
   * @param nowMillis the time to measure from, not before {@code responseMillis}
   */
  static long freshForMillis(Headers headers, long responseMillis, long nowMillis) {
    long lifetime = lifetimeMillis(headers, responseMillis);
    if (lifetime <= 0) {
      return 0;
    }

    long dateMillis = dateOr(headers, "Date", responseMillis);
    long apparentAge = Math.max(0, responseMillis - dateMillis);
    long ageValue = deltaSeconds(headers.get("Age"));
    long ageAtReceipt = Math.max(apparentAge, ageValue < 0 ? 0 : ageValue * 1000);
    long currentAge = ageAtReceipt + Math.max(0, nowMillis - responseMillis);
    return Math.max(0, lifetime - currentAge);
  }

  /**
   * How long after {@code nowMillis} a {@code Retry-After} asks the next request to wait, in
   * milliseconds; 0 if there is none, it is malformed, or it has passed.
   *
   * <p>A delta in seconds counts from {@code responseMillis}. An HTTP date is measured against the
   * response's own {@code Date} when it has one, so that a server whose clock differs from ours
   * still gets the wait it asked for, and against {@code responseMillis} otherwise.
   *
   * @param headers the response's headers
   * @param responseMillis when the response headers were received
   * @param nowMillis the time to measure from, not before {@code responseMillis}
   */
  static long retryAfterMillis(Headers headers, long responseMillis, long nowMillis) {
    String value = headers.get("Retry-After");
    if (value == null) {
      return 0;
    }

    long waitFromReceipt;
    long seconds = deltaSeconds(value);
    if (seconds >= 0) {
      waitFromReceipt = seconds * 1000;
    } else {
      Date retryAt = headers.getDate("Retry-After");
      if (retryAt == null) {
        return 0;
      }
      waitFromReceipt = retryAt.getTime() - dateOr(headers, "Date", responseMillis);
    }
    return Math.max(0, waitFromReceipt - Math.max(0, nowMillis - responseMillis));
  }

  /** The freshness lifetime in milliseconds, or 0 if the response must not be reused. */
  private static long lifetimeMillis(Headers headers, long responseMillis) {
    Directives directives = Directives.parse(headers.values("Cache-Control"));
    if (directives.noCache || directives.noStore) {
      return 0;
    }

    String seconds = directives.sMaxAge != null ? directives.sMaxAge : directives.maxAge;
    if (seconds != null) {
      return Math.max(0, deltaSeconds(seconds)) * 1000;
    }
    if (headers.get("Expires") != null) {
      Date expires = headers.getDate("Expires");
      return expires == null ? 0 : expires.getTime() - dateOr(headers, "Date", responseMillis);
    }
    return 0;
  }

  private static long dateOr(Headers headers, String name, long fallbackMillis) {
    Date date = headers.getDate(name);
    return date == null ? fallbackMillis : date.getTime();
  }

  /**
   * Parses RFC 9111 delta-seconds (one or more ASCII digits, capped at 2^31), or returns -1 if
   * {@code value} is null or not delta-seconds.
   */
  static long deltaSeconds(String value) {
    if (value == null) {
      return -1;
    }
    String digits = value.trim();
    if (digits.isEmpty()) {
      return -1;
    }

    long seconds = 0;
    for (int i = 0; i < digits.length(); i++) {
      char c = digits.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      seconds = Math.min(MAX_DELTA_SECONDS, seconds * 10 + (c - '0'));
    }
    return seconds;
  }

  /**
   * The {@code Cache-Control} directives that pace polling. The first occurrence of a directive
   * counts (RFC 9111 4.2.1); a freshness value that is not delta-seconds makes the response stale.
   */
  private static final class Directives {
    boolean noCache;
    boolean noStore;
    String maxAge;
    String sMaxAge;

    static Directives parse(List<String> headerValues) {
      Directives directives = new Directives();
      for (String headerValue : headerValues) {
        for (String directive : split(headerValue)) {
          directives.add(directive);
        }
      }
      return directives;
    }

    private void add(String directive) {
      int equals = directive.indexOf('=');
      String name = (equals < 0 ? directive : directive.substring(0, equals))
          .trim().toLowerCase(Locale.ROOT);
      String value = equals < 0 ? "" : unquote(directive.substring(equals + 1).trim());

      switch (name) {
        case "no-cache" -> noCache = true;
        case "no-store" -> noStore = true;
        case "max-age" -> maxAge = maxAge != null ? maxAge : value;
        case "s-maxage" -> sMaxAge = sMaxAge != null ? sMaxAge : value;
        default -> { }
      }
    }

    /** Splits a header value at the commas that are not inside a quoted string. */
    private static List<String> split(String headerValue) {
      List<String> parts = new ArrayList<>();
      StringBuilder part = new StringBuilder();
      boolean quoted = false;
      for (int i = 0; i < headerValue.length(); i++) {
        char c = headerValue.charAt(i);
        if (c == '"') {
          quoted = !quoted;
        } else if (c == '\\' && quoted && i + 1 < headerValue.length()) {
          part.append(c);
          c = headerValue.charAt(++i);
        } else if (c == ',' && !quoted) {
          parts.add(part.toString());
          part.setLength(0);
          continue;
        }
        part.append(c);
      }
      parts.add(part.toString());
      return parts;
    }

    private static String unquote(String value) {
      if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
        return value.substring(1, value.length() - 1);
      }
      return value;
    }
  }
}
