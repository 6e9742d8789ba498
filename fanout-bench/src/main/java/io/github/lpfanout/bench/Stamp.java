package io.github.lpfanout.bench;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The head of every benchmark body: when the upstream wrote it and its sequence number, in ASCII so
 * that it survives the SSE encoding unchanged: {@code w=<19 digits> s=<10 digits> }, then padding.
 *
 * <p>Times are {@link System#nanoTime()} less {@link #ORIGIN}, taken and read in the driver's JVM
 * only: the upstream and the feed stamp, the load client subtracts.
 */
final class Stamp {
  /** Bytes the stamp takes at the start of a body. */
  static final int LENGTH = 35;

  private static final long ORIGIN = System.nanoTime();
  private static final int TIME_AT = 2;
  private static final int SEQ_AT = 24;

  private Stamp() {}

  /** Nanoseconds since this JVM's origin, never negative. */
  static long now() {
    return System.nanoTime() - ORIGIN;
  }

  /** A body of {@code size} bytes, stamp zeroed, padded with {@code x}. */
  static byte[] template(int size) {
    if (size < LENGTH) {
      throw new IllegalArgumentException("bodies must be at least " + LENGTH + " bytes: " + size);
    }
    byte[] body = new byte[size];
    Arrays.fill(body, (byte) 'x');
    byte[] head = "w=0000000000000000000 s=0000000000 ".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(head, 0, body, 0, LENGTH);
    return body;
  }

  /** Writes {@code time} and {@code seq} into the stamp that starts at {@code at}. */
  static void write(byte[] into, int at, long time, long seq) {
    digits(into, at + TIME_AT, 19, time);
    digits(into, at + SEQ_AT, 10, seq);
  }

  /** The time of a stamp, or -1 if {@code from} does not start with one. */
  static long time(byte[] from, int at, int length) {
    if (length < LENGTH || from[at] != 'w' || from[at + 1] != '=') {
      return -1;
    }
    return parse(from, at + TIME_AT, 19);
  }

  /** The sequence number of a stamp that {@link #time} accepted. */
  static long seq(byte[] from, int at) {
    return parse(from, at + SEQ_AT, 10);
  }

  private static void digits(byte[] into, int at, int width, long value) {
    for (int i = at + width - 1; i >= at; i--) {
      into[i] = (byte) ('0' + value % 10);
      value /= 10;
    }
  }

  private static long parse(byte[] from, int at, int width) {
    long value = 0;
    for (int i = at; i < at + width; i++) {
      int digit = from[i] - '0';
      if (digit < 0 || digit > 9) {
        return -1;
      }
      value = value * 10 + digit;
    }
    return value;
  }
}
