package io.github.lpfanout;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
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
 *
 * <p>A live message is kept in the topic's {@link MessageRing} until every live subscriber has
 * taken it: a {@link ClientStream} queues only its position there, and any other subscriber takes
 * it as it is called. So a topic holds the messages its slowest stream has not taken yet, and
 * often its last message until the next one.
 */
final class Topic implements Consumer<Message> {
  private static final Logger log = LoggerFactory.getLogger(Topic.class);

  private final String canonical;
  private final Journal journal;
  private final Set<Entry> entries = ConcurrentHashMap.newKeySet();
  private final Poller poller;
  private final MessageRing ring = new MessageRing();
  private final AtomicBoolean releaseQueued = new AtomicBoolean();

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
    entry.topic = this;
    entries.add(entry);
  }

  /** Removes {@code entry}; what only it had not taken is let go of soon after. */
  void remove(Entry entry) {
    entries.remove(entry);
    releaseSoon();
  }

  /**
   * Lets go, on the delivery thread and soon, of the messages every live subscriber has taken,
   * rather than at the topic's next message, which may be long in coming. For a stream that left
   * or caught up with a backlog. Any thread.
   */
  void releaseSoon() {
    if (journal != null && releaseQueued.compareAndSet(false, true)) {
      journal.run(this::releaseTaken);
    }
  }

  private void releaseTaken() {
    releaseQueued.set(false);
    long firstKept = Long.MAX_VALUE;
    for (Entry entry : entries) {
      firstKept = Math.min(firstKept, entry.firstUntaken);
    }
    ring.release(firstKept);
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

  /**
   * Hands {@code message} to every live subscriber, then lets go of the messages that every live
   * subscriber has taken. Called by the journal, one at a time.
   */
  void deliver(Message message) {
    long position = ring.append(message);
    long firstKept = Long.MAX_VALUE;
    for (Entry entry : entries) {
      if (entry.isLive()) {
        deliverLive(entry, position, message);
      }
      firstKept = Math.min(firstKept, entry.firstUntaken);
    }
    ring.release(firstKept);
  }

  /** How many messages the topic keeps for subscribers that have not taken them; for tests. */
  int kept() {
    return ring.size();
  }

  /**
   * Hands a live entry the message at {@code position}: a stream queues the position, any other
   * subscriber is called with the message and holds nothing in the ring.
   */
  private static void deliverLive(Entry entry, long position, Message message) {
    if (!(entry.subscriber() instanceof ClientStream stream)) {
      entry.taken(position);
      deliver(entry, message);
      return;
    }
    try {
      stream.onLive(entry, position, message);
    } catch (RuntimeException e) {
      warnThrew(entry, e);
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
      warnThrew(entry, e);
    }
  }

  private static void warnThrew(Entry entry, RuntimeException e) {
    log.warn("Subscriber {} of {} threw; it keeps its subscription",
        entry.subscriber(), entry.url().canonical(), e);
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
    /** The entry's topic; set when the entry is added to it. */
    private volatile Topic topic;
    /**
     * The first ring position this entry may still take; every one before it was taken. No
     * position while the entry is not live. Written by the delivery thread at go-live, then by
     * whoever takes the entry's messages.
     */
    private volatile long firstUntaken = Long.MAX_VALUE;
    /** The entry's slot in its {@link ClientStream}, or -1; guarded by that stream's lock. */
    private int slot = -1;

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

    /**
     * Makes the entry live from the topic's next message on. Delivery thread only, after the entry
     * was added to its topic.
     */
    void goLive() {
      firstUntaken = topic == null ? Long.MAX_VALUE : topic.ring.next();
      live = true;
    }

    Topic topic() {
      return topic;
    }

    MessageRing ring() {
      return topic.ring;
    }

    /** Says the message at {@code position} was taken, or will never be. */
    void taken(long position) {
      firstUntaken = position + 1;
    }

    /** Says no message of the ring will be taken any more. */
    void release() {
      firstUntaken = Long.MAX_VALUE;
    }

    int slot() {
      return slot;
    }

    void slot(int slot) {
      this.slot = slot;
    }

    boolean isCancelled() {
      return cancelled;
    }

    void cancel() {
      cancelled = true;
    }
  }
}
