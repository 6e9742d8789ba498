package io.github.lpfanout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A complete HTTP answer that ends a stream request before any data is sent: a bad request, an
 * unknown format, or an authorizer's denial. Immutable.
 */
public final class Refusal {
  private final int status;
  private final Map<String, List<String>> headers;
  private final byte[] body;

  /**
   * @param status the HTTP status code
   * @param headers response headers, copied; {@code Content-Type} among them describes the body
   * @param body the response body, copied
   */
  public Refusal(int status, Map<String, List<String>> headers, byte[] body) {
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("status must be 100..599: " + status);
    }
    this.status = status;
    TreeMap<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    headers.forEach((name, values) -> copy.put(name, List.copyOf(values)));
    this.headers = Collections.unmodifiableMap(copy);
    this.body = body.clone();
  }

  /** A plain-text answer whose body is {@code reason} and a line feed. */
  public static Refusal of(int status, String reason) {
    Objects.requireNonNull(reason, "reason");
    return new Refusal(
        status,
        Map.of("Content-Type", List.of("text/plain; charset=utf-8")),
        (reason + "\n").getBytes(StandardCharsets.UTF_8));
  }

  public int status() {
    return status;
  }

  /** The headers, by case-insensitive name. */
  public Map<String, List<String>> headers() {
    return headers;
  }

  /** A copy of the body. */
  public byte[] body() {
    return body.clone();
  }

  /** The body decoded as UTF-8, for logs and tests. */
  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    List<String> line = new ArrayList<>(List.of(String.valueOf(status)));
    String text = bodyText().strip();
    if (!text.isEmpty() && text.length() <= 200) {
      line.add(text);
    }
    return "Refusal{" + String.join(" ", line) + "}";
  }
}
