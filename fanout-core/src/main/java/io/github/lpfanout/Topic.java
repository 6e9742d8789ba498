package io.github.lpfanout;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the registry keeps for one canonical URL while it has subscribers: the subscribers,
 * and the poller that feeds them, unless the URL is push-fed. Each message the poller produces goes
 * to the registry's {@link Journal}, which gives it its id and hands it back for delivery.
 *
 * <p>The set of entries is changed only by {@link PollerRegistry} while it holds the map's lock for
 * this URL; delivery reads it without locking. An entry receives messages only once it is live:
 * the journal makes it live after sending it what its start asked for. Thread-safe.
 */
final class Topic implements Consumer<Message> {
  private static final Logger log = LoggerFactory.getLogger(Topic.class);

  private final String canonical;
  private final Journal journal;
  private final Set<Entry> entries = ConcurrentHashMap.newKeySet();
  private final Poller poller;

  /**
   * @param pollers makes the topic's poller; null for a push-fed URL, which is never polled
   */
  Topic(String canonical, Journal journal, PollerFactory pollers) {
    this.canonical = canonical;
    this.journal = journal;
    this.poller = pollers == null ? null : pollers.create(this);
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

  /** Whether a poller feeds this topic; false for a push-fed URL. */
  boolean isPolled() {
    return poller != null;
  }

  /** Starts feeding the topic. Called once, after it was published in the registry. */
  void start() {
    if (poller != null) {
      poller.start();
    }
  }

  /** Stops feeding the topic; nothing is polled afterwards. */
  void stop() {
    if (poller != null) {
      poller.stop();
    }
  }

  /** Takes a polled message: the journal gives it its id, keeps it and delivers it. */
  @Override
  public void accept(Message message) {
    journal.append(message);
  }

  /** Hands {@code message} to every live subscriber. Called by the journal, one at a time. */
  void deliver(Message message) {
    for (Entry entry : entries) {
      if (entry.isLive()) {
        deliver(entry, message);
      }
    }
  }

  /** Hands {@code message} to one entry unless it is null or cancelled. */
  static void deliver(Entry entry, Message message) {
    if (entry == null || entry.isCancelled()) {
      return;
    }
    try {
      entry.subscriber().onMessage(entry.url(), message);
    } catch (RuntimeException e) {
      log.warn("Subscriber {} of {} threw; it keeps its subscription",
          entry.subscriber(), entry.url().canonical(), e);
    }
  }

  @Override
  public String toString() {
    return "Topic{" + canonical + ", " + entries.size() + " subscribers"
        + (poller == null ? ", push-fed}" : "}");
  }

  /** One subscriber's interest in this URL, under one spelling. Identity equality. */
  static final class Entry {
    private final UpstreamUrl url;
    private final Subscriber subscriber;
    private volatile boolean live;
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

    /** Whether the entry receives every message as it is delivered. */
    boolean isLive() {
      return live && !cancelled;
    }

    void goLive() {
      live = true;
    }

    boolean isCancelled() {
      return cancelled;
    }

    void cancel() {
      cancelled = true;
    }
  }
}
