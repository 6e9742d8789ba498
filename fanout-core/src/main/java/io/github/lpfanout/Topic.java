package io.github.lpfanout;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the registry keeps for one canonical URL: its subscribers, and the poller that feeds
 * them while there are any. Each message the poller produces is handed to every subscriber.
 *
 * <p>The set of entries is changed only by {@link PollerRegistry} while it holds the map's lock for
 * this URL; delivery reads it without locking. Thread-safe.
 */
final class Topic implements Consumer<Message> {
  private static final Logger log = LoggerFactory.getLogger(Topic.class);

  private final String canonical;
  private final Set<Entry> entries = ConcurrentHashMap.newKeySet();
  private final Poller poller;

  Topic(String canonical, PollerFactory pollers) {
    this.canonical = canonical;
    this.poller = pollers.create(this);
  }

  /** Makes the poller of a new topic; the registry supplies it. */
  @FunctionalInterface
  interface PollerFactory {
    Poller create(Consumer<Message> topic);
  }

  void add(Entry entry) {
    entries.add(entry);
  }

  void remove(Entry entry) {
    entries.remove(entry);
  }

  boolean isEmpty() {
    return entries.isEmpty();
  }

  int size() {
    return entries.size();
  }

  /** Starts feeding the topic. Called once, after it was published in the registry. */
  void start() {
    poller.start();
  }

  /** Stops feeding the topic; nothing is delivered afterwards. */
  void stop() {
    poller.stop();
  }

  /** Hands {@code message} to every current subscriber, on the calling thread. */
  @Override
  public void accept(Message message) {
    for (Entry entry : entries) {
      if (entry.isCancelled()) {
        continue;
      }
      try {
        entry.subscriber().onMessage(entry.url(), message);
      } catch (RuntimeException e) {
        log.warn("Subscriber {} of {} threw; it keeps its subscription",
            entry.subscriber(), canonical, e);
      }
    }
  }

  @Override
  public String toString() {
    return "Topic{" + canonical + ", " + entries.size() + " subscribers}";
  }

  /** One subscriber's interest in this URL, under one spelling. Identity equality. */
  static final class Entry {
    private final UpstreamUrl url;
    private final Subscriber subscriber;
    private volatile boolean cancelled;

    Entry(UpstreamUrl url, Subscriber subscriber) {
      this.url = url;
      this.subscriber = subscriber;
    }

    UpstreamUrl url() {
      return url;
    }

    Subscriber subscriber() {
      return subscriber;
    }

    boolean isCancelled() {
      return cancelled;
    }

    void cancel() {
      cancelled = true;
    }
  }
}
