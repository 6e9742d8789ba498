package io.github.lpfanout.bench;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The bytes a client receives for one message, built the way the proxy's encoders and the JDK
 * server's chunked stream frame them, so that the baseline writes what the proxy writes.
 *
 * @param bytes one HTTP chunk holding one frame
 * @param stampAt where the body's stamp starts in {@code bytes}
 */
record Frames(byte[] bytes, int stampAt) {

  /** One chunk holding the {@code sse} or {@code bin} frame of a stamped body for {@code url}. */
  static Frames chunk(boolean sse, String url, int bodyBytes) {
    byte[] body = Stamp.template(bodyBytes);
    byte[] spelling = url.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream frame = new ByteArrayOutputStream(bodyBytes + spelling.length + 32);
    int bodyAt;
    if (sse) {
      frame.writeBytes("event: ".getBytes(StandardCharsets.US_ASCII));
      frame.writeBytes(spelling);
      frame.writeBytes("\ndata: ".getBytes(StandardCharsets.US_ASCII));
      bodyAt = frame.size();
      frame.writeBytes(body);
      frame.writeBytes("\n\n".getBytes(StandardCharsets.US_ASCII));
    } else {
      frame.writeBytes(spelling);
      frame.write('\n');
      frame.write(bodyBytes >>> 24);
      frame.write(bodyBytes >>> 16);
      frame.write(bodyBytes >>> 8);
      frame.write(bodyBytes);
      bodyAt = frame.size();
      frame.writeBytes(body);
    }

    byte[] size =
        (Integer.toHexString(frame.size()) + "\r\n").getBytes(StandardCharsets.US_ASCII);
    ByteArrayOutputStream chunk = new ByteArrayOutputStream(frame.size() + size.length + 2);
    chunk.writeBytes(size);
    chunk.writeBytes(frame.toByteArray());
    chunk.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    return new Frames(chunk.toByteArray(), size.length + bodyAt);
  }
}
