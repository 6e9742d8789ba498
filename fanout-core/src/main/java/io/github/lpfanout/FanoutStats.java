package io.github.lpfanout;

import java.util.Map;
import java.util.stream.Collectors;

/**
 * A snapshot of what a {@link Fanout} is doing, from {@link Fanout#stats()}. Counts marked as
 * totals run from the registry's start.
 *
 * @param clients streams connected now
 * @param subscriptions client subscriptions to URLs now, one per client and URL
 * @param pollers URLs being polled now
 * @param requestsInFlight poll requests waiting for their upstream now
 * @param messagesDelivered total messages queued to clients, one per client and message
 * @param bytesDelivered total bytes of those frames
 * @param clientsDroppedSlow total clients dropped because they read too slowly
 * @param upstreamErrors total failed polls by kind: {@code http_4xx}, {@code http_5xx}, {@code
 *     timeout}, {@code connect}, {@code unresolvable}, {@code refused_by_policy}, {@code tls},
 *     {@code body_too_large}, {@code io}, {@code internal}
 */
public record FanoutStats(
    int clients,
    int subscriptions,
    int pollers,
    int requestsInFlight,
    long messagesDelivered,
    long bytesDelivered,
    long clientsDroppedSlow,
    Map<String, Long> upstreamErrors) {

  public FanoutStats {
    upstreamErrors = Map.copyOf(upstreamErrors);
  }

  /** The snapshot as one JSON object, the errors as a nested object in the order of their kinds. */
  public String toJson() {
    String errors = new java.util.TreeMap<>(upstreamErrors).entrySet().stream()
        .map(e -> "\"" + e.getKey() + "\":" + e.getValue())
        .collect(Collectors.joining(",", "{", "}"));
    return "{\"clients\":" + clients
        + ",\"subscriptions\":" + subscriptions
        + ",\"pollers\":" + pollers
        + ",\"requestsInFlight\":" + requestsInFlight
        + ",\"messagesDelivered\":" + messagesDelivered
        + ",\"bytesDelivered\":" + bytesDelivered
        + ",\"clientsDroppedSlow\":" + clientsDroppedSlow
        + ",\"upstreamErrors\":" + errors + "}";
  }
}
