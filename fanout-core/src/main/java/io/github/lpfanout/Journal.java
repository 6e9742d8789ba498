package io.github.lpfanout;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A registry's record of what it delivered: it gives every message its id, keeps each URL's recent
 * messages, and hands messages and joining subscribers over for delivery in one order.
 *
 * <p>Every message and every join is appended, under one short lock that never calls out, to a
 * queue of deliveries; the id's sequence is taken there too, so the queue is in sequence order. A
 * join reads the history it replays under the same lock. The queue is worked through by one task
 * at a time on the delivery executor, never on the thread that polled, published or subscribed:
 * that thread may be a servlet container's, which must not write to other clients' responses. No
 * lock is held while subscribers are called, and no two calls overlap.
 *
 * <p>That one order is what makes resuming exact. Each client receives the messages of all its
 * URLs in sequence order, so the last id it received says everything before it arrived and
 * nothing after it did. A joining subscriber is sent what its start asks for from the history as
 * it was when the join was queued, and the messages queued after the join live: none is missed
 * at the seam and none is sent twice.
 *
 * <p>The lock is taken inside the registry's map of topics (when a topic is created or dropped,
 * the journal is told within the same atomic step), and never the other way round.
 */
final class Journal {
  private static final Logger log = LoggerFactory.getLogger(Journal.class);
  private static final Comparator<Message> BY_SEQUENCE =
      Comparator.comparingLong(message -> message.id().sequence());

  private final String run;
  private final History limits;
  private final Function<String, Topic> topics;
  private final Executor executor;
  private final ReentrantLock lock = new ReentrantLock();

  // Guarded by lock.
  private long lastSequence;
  private long forgottenThrough;
  private final Map<String, Buffer> buffers = new HashMap<>();
  private final LinkedHashMap<String, Buffer> idle = new LinkedHashMap<>();
  private long idleBytes;
  private final ArrayDeque<Runnable> deliveries = new ArrayDeque<>();
  private boolean scheduled;
  private boolean closed;

  /**
   * @param limits how much history to keep
   * @param topics finds the topic of a canonical URL at the moment a message is delivered
   * @param executor runs the deliveries; any executor will do, since one task at a time is given
   *     to it
   */
  Journal(History limits, Function<String, Topic> topics, Executor executor) {
    this.run = newRun();
    this.limits = limits;
    this.topics = topics;
    this.executor = executor;
  }

  private static String newRun() {
    int random = ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36);
    String suffix = Integer.toString(random, 36);
    return Long.toString(System.currentTimeMillis(), 36) + "0".repeat(4 - suffix.length()) + suffix;
  }

  String run() {
    return run;
  }

  /** The sequence of the last message given an id; 0 before the first. */
  long lastSequence() {
    lock.lock();
    try {
      return lastSequence;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Gives {@code message} the next id, keeps it in its URL's history, and delivers it to the
   * URL's live subscribers, in order after everything appended before it.
   *
   * @return the message with its id, or null if the journal is closed
   */
  Message append(Message message) {
    Message stamped;
    lock.lock();
    try {
      if (closed) {
        return null;
      }
      stamped = message.withId(new MessageId(run, ++lastSequence));
      long now = limits.nanoTime();
      Buffer buffer = buffers.get(message.canonicalUrl());
      if (buffer == null) {
        buffer = new Buffer(forgottenThrough);
        buffers.put(message.canonicalUrl(), buffer);
        markIdle(message.canonicalUrl(), buffer, now);
      }
      long before = buffer.bytes;
      buffer.add(stamped, limits);
      if (buffer.idle) {
        idleBytes += buffer.bytes - before;
        markIdle(message.canonicalUrl(), buffer, now);
      }
      forgetIdle(now);
      deliveries.add(() -> deliver(stamped));
    } finally {
      lock.unlock();
    }

    scheduleDeliveries();
    return stamped;
  }

  /**
   * Queues the join of {@code entries}: they are first sent what {@code start} asks for, then
   * every message appended after this call, and nothing before they are sent it.
   *
   * @param since the last sequence before the subscriber asked to join, where {@link
   *     StartFrom#live()} starts
   */
  void join(List<Topic.Entry> entries, StartFrom start, long since) {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      forgetIdle(limits.nanoTime());
      List<Message> replay = replay(entries, start, since);
      deliveries.add(() -> goLive(entries, replay));
    } finally {
      lock.unlock();
    }

    scheduleDeliveries();
  }

  /** What a join starting at {@code start} is sent first, in sequence order. Under the lock. */
  private List<Message> replay(List<Topic.Entry> entries, StartFrom start, long since) {
    long after = switch (start.kind()) {
      case LIVE -> since;
      case LATEST -> -1;
      case AFTER -> sequenceOfOurs(start.lastEventId());
    };

    List<Message> replay = new ArrayList<>();
    for (Topic.Entry entry : entries) {
      Buffer buffer = buffers.get(entry.url().canonical());
      if (buffer == null || buffer.messages.isEmpty()) {
        continue;
      }
      if (after < 0 || (start.kind() == StartFrom.Kind.AFTER && after < buffer.floor)) {
        replay.add(buffer.messages.getLast());
      } else {
        for (Message message : buffer.messages) {
          if (message.id().sequence() > after) {
            replay.add(message);
          }
        }
      }
    }
    replay.sort(BY_SEQUENCE);
    return replay;
  }

  /** The sequence of an id of this run that was given out, or -1 for any other text. */
  private long sequenceOfOurs(String lastEventId) {
    MessageId id = MessageId.parse(lastEventId);
    if (id == null || !id.run().equals(run) || id.sequence() > lastSequence) {
      return -1;
    }
    return id.sequence();
  }

  /** A topic was created for {@code canonical}: its history stops being idle. */
  void activate(String canonical) {
    lock.lock();
    try {
      long now = limits.nanoTime();
      forgetIdle(now);
      Buffer buffer = buffers.get(canonical);
      if (buffer == null) {
        buffers.put(canonical, new Buffer(forgottenThrough));
      } else if (buffer.idle) {
        idle.remove(canonical);
        idleBytes -= buffer.bytes;
        buffer.idle = false;
      }
    } finally {
      lock.unlock();
    }
  }

  /** The topic of {@code canonical} was dropped: its history becomes idle, or goes if empty. */
  void deactivate(String canonical) {
    lock.lock();
    try {
      Buffer buffer = buffers.get(canonical);
      if (buffer == null || buffer.idle) {
        return;
      }
      if (buffer.messages.isEmpty()) {
        buffers.remove(canonical);
        return;
      }
      buffer.idle = true;
      idleBytes += buffer.bytes;
      long now = limits.nanoTime();
      markIdle(canonical, buffer, now);
      forgetIdle(now);
    } finally {
      lock.unlock();
    }
  }

  /** Puts {@code buffer} last in the idle order, as idle since {@code now}. Under the lock. */
  private void markIdle(String canonical, Buffer buffer, long now) {
    buffer.idle = true;
    buffer.idleSince = now;
    idle.remove(canonical);
    idle.put(canonical, buffer);
  }

  /** Forgets the longest idle histories while the idle bounds are exceeded. Under the lock. */
  private void forgetIdle(long now) {
    long maxAge = limits.idleFor().toNanos();
    Iterator<Map.Entry<String, Buffer>> oldestFirst = idle.entrySet().iterator();
    while (oldestFirst.hasNext()) {
      Map.Entry<String, Buffer> oldest = oldestFirst.next();
      Buffer buffer = oldest.getValue();
      boolean over = idle.size() > limits.idleUrls() || idleBytes > limits.idleBytes()
          || now - buffer.idleSince >= maxAge;
      if (!over) {
        return;
      }
      oldestFirst.remove();
      buffers.remove(oldest.getKey());
      idleBytes -= buffer.bytes;
      forgottenThrough = Math.max(forgottenThrough, buffer.newestSequence());
    }
  }

  /** How many URLs have a history now, with or without subscribers; for tests. */
  int historyCount() {
    lock.lock();
    try {
      return buffers.size();
    } finally {
      lock.unlock();
    }
  }

  /** Runs {@code task} on the delivery thread, after what is queued now; not once closed. */
  void run(Runnable task) {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      deliveries.add(task);
    } finally {
      lock.unlock();
    }

    scheduleDeliveries();
  }

  /** Delivers nothing more; what is queued is dropped. */
  void close() {
    lock.lock();
    try {
      closed = true;
      deliveries.clear();
    } finally {
      lock.unlock();
    }
  }

  /** Hands the executor a task that works through the queue, unless one is running already. */
  private void scheduleDeliveries() {
    lock.lock();
    try {
      if (scheduled || deliveries.isEmpty() || closed) {
        return;
      }
      scheduled = true;
    } finally {
      lock.unlock();
    }

    try {
      executor.execute(this::deliverQueued);
    } catch (RejectedExecutionException e) {
      log.debug("The delivery executor refused work; the registry is closing");
      lock.lock();
      try {
        scheduled = false;
      } finally {
        lock.unlock();
      }
    }
  }

  /**
   * Delivers until the queue is empty. The task stops only once it finds the queue empty under the
   * lock, so whatever is added while it runs is delivered by it, in order.
   */
  private void deliverQueued() {
    boolean emptied = false;
    try {
      while (true) {
        Runnable next;
        lock.lock();
        try {
          next = closed ? null : deliveries.poll();
          if (next == null) {
            scheduled = false;
            emptied = true;
            return;
          }
        } finally {
          lock.unlock();
        }
        next.run();
      }
    } finally {
      if (!emptied) {
        lock.lock();
        try {
          scheduled = false;
        } finally {
          lock.unlock();
        }
        scheduleDeliveries();
      }
    }
  }

  private void deliver(Message message) {
    Topic topic = topics.apply(message.canonicalUrl());
    if (topic != null) {
      topic.deliver(message);
    }
  }

  private static void goLive(List<Topic.Entry> entries, List<Message> replay) {
    Map<String, Topic.Entry> byCanonical = new HashMap<>();
    for (Topic.Entry entry : entries) {
      byCanonical.put(entry.url().canonical(), entry);
    }
    for (Message message : replay) {
      Topic.deliver(byCanonical.get(message.canonicalUrl()), message);
    }
    for (Topic.Entry entry : entries) {
      entry.goLive();
    }
  }

  /** The kept messages of one URL, oldest first. Guarded by the journal's lock. */
  private static final class Buffer {
    final ArrayDeque<Message> messages = new ArrayDeque<>();
    long bytes;
    /** Every message of this URL with a higher sequence than this is still kept. */
    long floor;
    boolean idle;
    long idleSince;

    Buffer(long floor) {
      this.floor = floor;
    }

    void add(Message message, History limits) {
      messages.addLast(message);
      bytes += message.body().length;
      while (messages.size() > 1
          && (messages.size() > limits.maxMessages() || bytes > limits.maxBytes())) {
        Message dropped = messages.removeFirst();
        bytes -= dropped.body().length;
        floor = dropped.id().sequence();
      }
    }

    long newestSequence() {
      Message newest = messages.peekLast();
      return newest == null ? floor : newest.id().sequence();
    }
  }
}
