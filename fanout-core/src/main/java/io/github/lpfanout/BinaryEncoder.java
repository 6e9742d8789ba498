package io.github.lpfanout;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Encodes messages as {@code <url>\n<uint32 big-endian length><body>} frames. */
final class BinaryEncoder implements FrameEncoder {
  static final BinaryEncoder INSTANCE = new BinaryEncoder();

  private static final byte[] HEARTBEAT = {'\n', 0, 0, 0, 0};

  private BinaryEncoder() {}

  @Override
  public String name() {
    return "bin";
  }

  @Override
  public String contentType() {
    return "application/octet-stream";
  }

  @Override
  public byte[] encode(String spelling, Message message) {
    byte[] url = spelling.getBytes(StandardCharsets.UTF_8);
    byte[] body = message.body();
    return ByteBuffer.allocate(url.length + 1 + 4 + body.length)
        .put(url)
        .put((byte) '\n')
        .putInt(body.length)
        .put(body)
        .array();
  }

  @Override
  public byte[] heartbeat() {
    return HEARTBEAT.clone();
  }

  @Override
  public String toString() {
    return "FrameEncoder.binary()";
  }
}
