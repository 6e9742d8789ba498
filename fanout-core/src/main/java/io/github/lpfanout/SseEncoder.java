package io.github.lpfanout;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * Encodes messages as Server-Sent Events.
 *
 * <p>The body is split into lines at CRLF, CR and LF, and each line becomes one {@code data:} line,
 * so that {@code EventSource} rebuilds the body with {@code \n} line ends. A body that ends with a
 * line break yields a final empty {@code data:} line, which keeps that trailing line end. An empty
 * body is one empty {@code data:} line, which dispatches an event with empty data.
 *
 * <p>A message with an id gets an {@code id:} line, so that the client sends the id of the last
 * event it received as {@code Last-Event-ID} when it reconnects. The opening is a {@code retry:}
 * field alone, which sets the client's reconnection delay and dispatches no event.
 */
final class SseEncoder implements FrameEncoder {
  static final SseEncoder INSTANCE = new SseEncoder();

  private static final byte[] ID = "id: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EVENT = "event: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HEARTBEAT = ":\n\n".getBytes(StandardCharsets.US_ASCII);
  private static final Map<String, String> HEADERS =
      Map.of("Cache-Control", "no-cache", "X-Accel-Buffering", "no");

  private SseEncoder() {}

  @Override
  public String name() {
    return "sse";
  }

  @Override
  public String contentType() {
    return "text/event-stream; charset=utf-8";
  }

  @Override
  public Map<String, String> responseHeaders() {
    return HEADERS;
  }

  /** The {@code id:} and {@code event:} lines. */
  @Override
  public byte[] encodeHead(String spelling, Message message) {
    byte[] event = spelling.getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream out = new ByteArrayOutputStream(event.length + 48);
    if (message.id() != null) {
      out.writeBytes(ID);
      out.writeBytes(message.id().toString().getBytes(StandardCharsets.US_ASCII));
      out.write('\n');
    }
    out.writeBytes(EVENT);
    out.writeBytes(event);
    out.write('\n');
    return out.toByteArray();
  }

  /** One {@code data:} line per line of the body, and the blank line that ends the event. */
  @Override
  public byte[] encodeBody(Message message) {
    String body = new String(message.body(), message.charset());
    ByteArrayOutputStream out = new ByteArrayOutputStream(body.length() + 64);
    int lineStart = 0;
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (c == '\r' || c == '\n') {
        writeDataLine(out, body, lineStart, i);
        if (c == '\r' && i + 1 < body.length() && body.charAt(i + 1) == '\n') {
          i++;
        }
        lineStart = i + 1;
      }
    }
    writeDataLine(out, body, lineStart, body.length());

    out.write('\n');
    return out.toByteArray();
  }

  private static void writeDataLine(ByteArrayOutputStream out, String body, int start, int end) {
    out.writeBytes(DATA);
    out.writeBytes(body.substring(start, end).getBytes(StandardCharsets.UTF_8));
    out.write('\n');
  }

  @Override
  public byte[] opening(Duration retry) {
    if (retry == null) {
      return new byte[0];
    }
    return ("retry: " + retry.toMillis() + "\n\n").getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  public byte[] heartbeat() {
    return HEARTBEAT.clone();
  }

  @Override
  public String toString() {
    return "FrameEncoder.sse()";
  }
}
