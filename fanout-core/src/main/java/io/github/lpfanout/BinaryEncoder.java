package io.github.lpfanout;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Encodes messages as {@code <url>\n<uint32 big-endian length><body>} frames. */
final class BinaryEncoder implements FrameEncoder {
  static final BinaryEncoder INSTANCE = new BinaryEncoder();

  private static final byte[] HEARTBEAT = {'\n', 0, 0, 0, 0};
  // A stream, not a document: no cache or buffering proxy may hold it back.
  private static final Map<String, String> HEADERS =
      Map.of("Cache-Control", "no-cache", "X-Accel-Buffering", "no");

  private BinaryEncoder() {}

  @Override
  public String name() {
    return "bin";
  }

  @Override
  public String contentType() {
    return "application/octet-stream";
  }

  /** The message's own body: the binary format sends it as it is, so no copy is made. */
  @Override
  public Map<String, String> responseHeaders() {
    return HEADERS;
  }

  @Override
  public byte[] encodeBody(Message message) {
    return message.body();
  }

  @Override
  public byte[] encodeHead(String spelling, Message message) {
    byte[] url = spelling.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(url.length + 1 + 4)
        .put(url)
        .put((byte) '\n')
        .putInt(message.body().length)
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
