package io.github.lpfanout;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a transport knows about one client's stream request.
 *
 * <p>{@code target} is the raw request target relative to where the transport is mounted, as it
 * arrived on the wire: not percent-decoded, not normalized, query string included. For a handler
 * mounted at {@code /fanout} and the request line {@code GET /fanout/sse/http://a.example/x?n=1},
 * it is {@code /sse/http://a.example/x?n=1}.
 */
public final class StreamRequest {
  private final String target;
  private final Map<String, List<String>> headers;
  private final String remoteAddress;

  private StreamRequest(String target, Map<String, List<String>> headers, String remoteAddress) {
    this.target = target;
    this.headers = headers;
    this.remoteAddress = remoteAddress;
  }

  /**
   * @param target the raw request target relative to the mount point
   * @param headers the request headers; names are matched case-insensitively
   * @param remoteAddress the client's IP address, or null if unknown
   */
  public static StreamRequest of(
      String target, Map<String, List<String>> headers, String remoteAddress) {
    Objects.requireNonNull(target, "target");
    TreeMap<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    headers.forEach((name, values) -> copy.merge(name, List.copyOf(values), StreamRequest::concat));
    return new StreamRequest(target, Collections.unmodifiableMap(copy), remoteAddress);
  }

  private static List<String> concat(List<String> first, List<String> second) {
    List<String> all = new ArrayList<>(first);
    all.addAll(second);
    return List.copyOf(all);
  }

  public String target() {
    return target;
  }

  /** All request headers, by case-insensitive name. */
  public Map<String, List<String>> headers() {
    return headers;
  }

  /** The values of one header, empty if it is absent. */
  public List<String> header(String name) {
    return headers.getOrDefault(name, List.of());
  }

  /** The client's IP address, or null if the transport does not know it. */
  public String remoteAddress() {
    return remoteAddress;
  }

  @Override
  public String toString() {
    return "StreamRequest{" + target + " from " + remoteAddress + "}";
  }
}
