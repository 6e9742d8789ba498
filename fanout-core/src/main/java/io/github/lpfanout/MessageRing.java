package io.github.lpfanout;

/**
 * The messages of one topic that some live subscriber has not taken yet, by position: the topic's
 * n-th live message has position n. A stream queues a position rather than the message, and looks
 * the message up here when its writer takes it.
 *
 * <p>Only the delivery thread appends and releases; writers call {@link #get} from any thread, for
 * a position they have not taken yet, which is never released before they take it. The ring grows
 * when a slow subscriber holds its oldest message and a new one arrives, and shrinks again once it
 * has caught up or gone, so it holds about as many messages as the slowest live subscriber lags
 * behind.
 */
final class MessageRing {
  private static final int MIN_CAPACITY = 16;

  // Written by the delivery thread only; a writer reads it after its stream's lock, taken after
  // the delivery thread queued the position, so it sees every message appended before that.
  private volatile Message[] slots = new Message[MIN_CAPACITY];
  // Written by the delivery thread only; volatile so that size() may be read from another thread.
  private volatile long oldest;
  private volatile long next;

  /** The position the next message will have. Delivery thread only. */
  long next() {
    return next;
  }

  /** Keeps {@code message} and returns its position. Delivery thread only. */
  long append(Message message) {
    Message[] current = slots;
    if (next - oldest == current.length) {
      current = resize(current.length * 2);
    }
    current[index(next, current)] = message;
    return next++;
  }

  /** The message at {@code position}, which the caller has not taken yet. */
  Message get(long position) {
    Message[] current = slots;
    return current[index(position, current)];
  }

  /**
   * Lets go of every message before {@code firstKept}: no live subscriber will take one. Delivery
   * thread only.
   */
  void release(long firstKept) {
    long until = Math.min(firstKept, next);
    if (until <= oldest) {
      return;
    }
    Message[] current = slots;
    for (long position = oldest; position < until; position++) {
      current[index(position, current)] = null;
    }
    oldest = until;
    if (current.length > MIN_CAPACITY && next - oldest <= current.length / 4) {
      resize(current.length / 2);
    }
  }

  /** How many messages are kept, as of the last append or release; for tests. */
  int size() {
    return (int) (next - oldest);
  }

  /** Copies the kept messages into a new array of {@code capacity} slots and publishes it. */
  private Message[] resize(int capacity) {
    Message[] current = slots;
    Message[] resized = new Message[capacity];
    for (long position = oldest; position < next; position++) {
      resized[index(position, resized)] = current[index(position, current)];
    }
    slots = resized;
    return resized;
  }

  private static int index(long position, Message[] slots) {
    return (int) (position & (slots.length - 1));
  }
}
