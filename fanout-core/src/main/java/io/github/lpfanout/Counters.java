package io.github.lpfanout;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The running totals a registry and the fanouts on it keep, for {@link FanoutStats}. Each update
 * is one atomic addition, cheap enough for the delivery path. Thread-safe.
 */
final class Counters {
  final AtomicInteger requestsInFlight = new AtomicInteger();
  final LongAdder messagesDelivered = new LongAdder();
  final LongAdder bytesDelivered = new LongAdder();
  final LongAdder clientsDroppedSlow = new LongAdder();
  private final ConcurrentHashMap<String, LongAdder> upstreamErrors = new ConcurrentHashMap<>();

  void upstreamError(String kind) {
    upstreamErrors.computeIfAbsent(kind, k -> new LongAdder()).increment();
  }

  /** The upstream errors so far, by kind, in the order of their names. */
  Map<String, Long> upstreamErrors() {
    Map<String, Long> snapshot = new TreeMap<>();
    upstreamErrors.forEach((kind, count) -> snapshot.put(kind, count.sum()));
    return snapshot;
  }
}
