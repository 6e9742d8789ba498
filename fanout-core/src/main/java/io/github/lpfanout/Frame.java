package io.github.lpfanout;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Objects;

/**
 * The bytes of one frame, written to a client as one unit: a head, then a body.
 *
 * <p>A message's frames for different spellings of its URL differ only in their head (the URL as
 * the client wrote it, the id); the body, which carries the message's data and is most of the
 * bytes, is encoded once and shared by all of them. So however many spellings a message is
 * delivered under, its body is held once per format, and once in all for formats whose body is
 * the message's own bytes.
 *
 * <p>Immutable, and shared between clients: a writer must not modify the arrays it is given. A
 * writer writes {@link #head()} and then {@link #body()}, or calls {@link #writeTo}.
 */
public final class Frame {
  private static final byte[] EMPTY = new byte[0];

  private final byte[] head;
  private final byte[] body;

  private Frame(byte[] head, byte[] body) {
    this.head = Objects.requireNonNull(head, "head");
    this.body = Objects.requireNonNull(body, "body");
  }

  /** A frame of {@code head} followed by {@code body}. Both arrays are owned by the frame. */
  public static Frame of(byte[] head, byte[] body) {
    return new Frame(head, body);
  }

  /** A frame of {@code bytes} alone, such as a heartbeat. The array is owned by the frame. */
  public static Frame of(byte[] bytes) {
    return new Frame(bytes, EMPTY);
  }

  /** The first bytes of the frame. Shared: must not be modified. */
  public byte[] head() {
    return head;
  }

  /** The bytes after the head; empty for a frame of one part. Shared: must not be modified. */
  public byte[] body() {
    return body;
  }

  /** How many bytes the frame has in all. */
  public int length() {
    return head.length + body.length;
  }

  /** Writes the head and then the body to {@code out}, without flushing. */
  public void writeTo(OutputStream out) throws IOException {
    out.write(head);
    if (body.length > 0) {
      out.write(body);
    }
  }

  /** A new array with the whole frame: for tests and for writers that need one array. */
  public byte[] toByteArray() {
    byte[] all = Arrays.copyOf(head, length());
    System.arraycopy(body, 0, all, head.length, body.length);
    return all;
  }

  @Override
  public String toString() {
    return "Frame{" + head.length + " + " + body.length + " bytes}";
  }
}
