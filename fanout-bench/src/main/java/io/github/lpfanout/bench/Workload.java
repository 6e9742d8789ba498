package io.github.lpfanout.bench;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.StringJoiner;

/**
 * One shape of load: how many clients, which topics each reads, in which format and with what
 * body size. A topic is an upstream URL for the proxy and a topic number for the baseline.
 *
 * @param kind {@code broadcast}, {@code spread}, {@code idle} or {@code binary}
 * @param sse whether clients read {@code sse}; {@code bin} otherwise
 * @param clients how many clients connect
 * @param topics how many topics there are
 * @param topicsPerClient how many each client reads, spread evenly so that every topic has the
 *     same number of readers
 * @param bodyBytes size of every message body
 */
record Workload(String kind, boolean sse, int clients, int topics, int topicsPerClient,
    int bodyBytes) {

  /** The topics client {@code i} reads. */
  int[] topicsOf(int client) {
    int[] mine = new int[topicsPerClient];
    int stride = topics / topicsPerClient;
    for (int j = 0; j < topicsPerClient; j++) {
      mine[j] = (client + stride * j) % topics;
    }
    return mine;
  }

  /** Clients reading each topic. */
  double readersPerTopic() {
    return (double) clients * topicsPerClient / topics;
  }

  /** The request target client {@code i} sends to the proxy. */
  String proxyTarget(int client, Upstream upstream) {
    StringJoiner urls = new StringJoiner(",", sse ? "/sse/" : "/bin/", "");
    for (int topic : topicsOf(client)) {
      urls.add(upstream.url(topic));
    }
    return urls.toString();
  }

  /** The request target client {@code i} sends to the baseline. */
  String baselineTarget(int client) {
    StringJoiner topics = new StringJoiner(",", "/t/", "");
    for (int topic : topicsOf(client)) {
      topics.add(Integer.toString(topic));
    }
    return topics.toString();
  }

  /**
   * The topics a request target of {@link #baselineTarget} names, each once and in order; null for
   * any other target, so that a baseline can refuse it rather than fail on it.
   */
  static Set<Integer> baselineTopics(String target) {
    if (!target.startsWith("/t/")) {
      return null;
    }
    Set<Integer> topics = new LinkedHashSet<>();
    for (String topic : target.substring("/t/".length()).split(",", -1)) {
      if (!topic.matches("[0-9]{1,6}")) {
        return null;
      }
      topics.add(Integer.parseInt(topic));
    }
    return topics;
  }

  String title() {
    String format = sse ? "sse" : "bin";
    return switch (kind) {
      case "spread" -> String.format(
          "spread: %,d %s clients, each on %d of %,d URLs, %,d-byte bodies",
          clients, format, topicsPerClient, topics, bodyBytes);
      case "idle" -> String.format("idle: %,d %s clients, no messages", clients, format);
      default -> String.format("%s: %,d %s clients on one URL, %,d-byte bodies", kind, clients,
          format, bodyBytes);
    };
  }
}
