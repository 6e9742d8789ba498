package io.github.lpfanout;

import java.util.NoSuchElementException;

/** A first-in first-out queue of {@code long}s that grows as needed. Not thread-safe. */
final class LongQueue {
  private long[] items = new long[4];
  private int head;
  private int size;

  boolean isEmpty() {
    return size == 0;
  }

  int size() {
    return size;
  }

  void add(long item) {
    if (size == items.length) {
      long[] grown = new long[items.length * 2];
      for (int i = 0; i < size; i++) {
        grown[i] = items[(head + i) & (items.length - 1)];
      }
      items = grown;
      head = 0;
    }
    items[(head + size) & (items.length - 1)] = item;
    size++;
  }

  /** Removes and returns the oldest item. */
  long poll() {
    if (size == 0) {
      throw new NoSuchElementException();
    }
    long item = items[head];
    head = (head + 1) & (items.length - 1);
    size--;
    return item;
  }

  void clear() {
    head = 0;
    size = 0;
  }
}
