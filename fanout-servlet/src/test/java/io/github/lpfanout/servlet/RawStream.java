package io.github.lpfanout.servlet;

import io.github.lpfanout.testing.RawHttp;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A stream request whose target goes on the wire byte for byte, as no HTTP client library sends
 * the targets that containers mangle. Reads the head, then the chunked body as text.
 */
final class RawStream implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final String head;
  private final StringBuilder body = new StringBuilder();
  /**
   * A chunk was read and the line end after it was not: a container may send that line end only
   * with the next chunk.
   */
  private boolean inChunkedBody;

  private RawStream(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    socket.setSoTimeout(10_000);
    this.head = readHead();
  }

  /** Sends {@code GET <target>} to {@code origin} and reads the response head. */
  static RawStream open(String origin, String target) throws IOException {
    return new RawStream(RawHttp.openAndStall(origin, target, 64 * 1024));
  }

  /** The status code. */
  int status() {
    return Integer.parseInt(head.split(" ", 3)[1]);
  }

  String head() {
    return head;
  }

  /** Reads the body until it contains {@code text}, failing after {@code timeout}. */
  String awaitBodyContaining(String text, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (body.indexOf(text) < 0) {
      long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no " + text + " within " + timeout.toMillis() + " ms: " + body);
      }
      socket.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
      try {
        if (!readChunk()) {
          throw new AssertionError("the stream ended without " + text + ": " + body);
        }
      } catch (SocketTimeoutException e) {
        // Checked against the deadline above.
      }
    }
    return body.toString();
  }

  /**
   * Reads the line end left after the previous chunk, then one chunk into the body; false at the
   * last chunk or the end of the connection.
   */
  private boolean readChunk() throws IOException {
    if (inChunkedBody) {
      readLine();
    }
    String sizeLine = readLine();
    if (sizeLine == null) {
      return false;
    }
    int size = Integer.parseInt(sizeLine.split(";", 2)[0].strip(), 16);
    if (size == 0) {
      return false;
    }
    byte[] chunk = in.readNBytes(size);
    body.append(new String(chunk, StandardCharsets.UTF_8));
    inChunkedBody = true;
    return chunk.length == size;
  }

  private String readHead() throws IOException {
    StringBuilder text = new StringBuilder();
    for (String line = readLine(); line != null && !line.isEmpty(); line = readLine()) {
      text.append(line).append("\r\n");
    }
    return text.toString();
  }

  private String readLine() throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b = in.read(); b >= 0; b = in.read()) {
      if (b == '\n') {
        String text = line.toString(StandardCharsets.ISO_8859_1);
        return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
      }
      line.write(b);
    }
    return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
