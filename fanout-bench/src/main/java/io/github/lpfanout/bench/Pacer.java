package io.github.lpfanout.bench;

import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * Marks the instants at which each topic's next message is due, on a thread of its own: topic
 * {@code i} of {@code n} is due every {@code 1 / rate} seconds from a start, with a phase of its
 * own when the topics are spread. What happens at an instant is the listener's business.
 *
 * <p>The instants are fixed by the schedule, not by whoever consumes the messages: a consumer that
 * falls behind misses instants, and the rate it achieves shows it.
 */
final class Pacer implements AutoCloseable {

  /** Called on the pacer's thread at each instant, as close to {@code due} as it can. */
  interface Listener {
    void onInstant(int topic, long due, long periodNanos);
  }

  private final Listener listener;
  private final Thread thread;
  private final Object lock = new Object();
  private PriorityQueue<long[]> instants = new PriorityQueue<>((a, b) -> Long.compare(a[0], b[0]));
  private long periodNanos;
  private volatile boolean closed;

  Pacer(String name, Listener listener) {
    this.listener = listener;
    this.thread = new Thread(this::run, name);
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /**
   * From now on, each of {@code topics} topics is due {@code ratePerTopic} times a second; a rate
   * of zero pauses every topic. With {@code spread}, each topic starts at a random phase within
   * its period, so that their messages do not all fall due at once.
   */
  void schedule(int topics, double ratePerTopic, boolean spread) {
    PriorityQueue<long[]> next = new PriorityQueue<>((a, b) -> Long.compare(a[0], b[0]));
    long period = ratePerTopic <= 0 ? 0 : Math.max(1, Math.round(1e9 / ratePerTopic));
    if (period > 0) {
      long start = Stamp.now();
      SplittableRandom random = new SplittableRandom(topics);
      for (int topic = 0; topic < topics; topic++) {
        long phase = spread ? random.nextLong(period) : 0;
        next.add(new long[] {start + phase, topic});
      }
    }
    synchronized (lock) {
      instants = next;
      periodNanos = period;
    }
    LockSupport.unpark(thread);
  }

  private void run() {
    while (!closed) {
      long[] instant;
      long period;
      synchronized (lock) {
        instant = instants.peek();
        period = periodNanos;
      }
      if (instant == null) {
        LockSupport.parkNanos(this, 100_000_000L);
        continue;
      }

      long wait = instant[0] - Stamp.now();
      if (wait > 0) {
        LockSupport.parkNanos(this, wait);
        continue;
      }
      synchronized (lock) {
        if (instants.peek() != instant) {
          continue;
        }
        instants.poll();
        instants.add(new long[] {instant[0] + period, instant[1]});
      }
      listener.onInstant((int) instant[1], instant[0], period);
    }
  }

  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(thread);
  }
}
