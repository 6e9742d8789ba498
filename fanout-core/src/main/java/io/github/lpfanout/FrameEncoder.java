package io.github.lpfanout;

import java.time.Duration;
import java.util.Map;

/**
 * Turns messages into the bytes of one streaming format.
 *
 * <p>A format is chosen by the first segment of the request path ({@code /sse/...}, {@code
 * /bin/...}). Implementations must be thread-safe and stateless per client. A message's frame is
 * encoded in two parts: {@link #encodeBody} once per message, shared by every spelling of its URL,
 * and {@link #encodeHead} once per message and spelling; the {@link Frame} they make is written to
 * every client that shares the message and the spelling. Put everything that does not depend on
 * the spelling in the body, since only the body is held once however many spellings a URL has.
 */
public interface FrameEncoder {

  /**
   * Server-Sent Events that a browser's {@code EventSource} reads: one event per message whose type
   * is the URL as the client wrote it, whose data is the body, decoded with the charset of its
   * {@code Content-Type} (UTF-8 when it names none), and whose {@code id} is the message's {@link
   * MessageId}. The heartbeat is a comment line; the opening, if a retry is configured, is a {@code
   * retry:} field.
   */
  static FrameEncoder sse() {
    return SseEncoder.INSTANCE;
  }

  /**
   * Frames of {@code <url>\n<uint32 big-endian length><body bytes>}, the body untouched. The
   * heartbeat is a frame with an empty URL and an empty body, which a client skips.
   */
  static FrameEncoder binary() {
    return BinaryEncoder.INSTANCE;
  }

  /** The path segment that selects this format, such as {@code sse}. */
  String name();

  /** The {@code Content-Type} of a stream in this format. */
  String contentType();

  /** Response headers besides {@code Content-Type} that a stream in this format carries. */
  default Map<String, String> responseHeaders() {
    return Map.of();
  }

  /**
   * Encodes the part of {@code message}'s frame that comes after the head and is the same for every
   * spelling of its URL. May return the message's own body array, which is not copied.
   */
  byte[] encodeBody(Message message);

  /** Encodes the part of {@code message}'s frame that comes first and names {@code spelling}. */
  byte[] encodeHead(String spelling, Message message);

  /**
   * Encodes one message for one URL spelling, both parts at once. The library does not call this:
   * it caches the body and calls the two methods above.
   */
  default Frame encode(String spelling, Message message) {
    return Frame.of(encodeHead(spelling, message), encodeBody(message));
  }

  /**
   * The bytes every stream in this format starts with, before its first frame; empty by default.
   *
   * @param retry how long a client should wait before it reconnects after the stream ends, for
   *     formats that can tell it; null to leave it to the client
   */
  default byte[] opening(Duration retry) {
    return new byte[0];
  }

  /**
   * The bytes sent when a stream has been idle for the heartbeat interval. They keep
   * intermediaries from closing the connection and reveal clients that went away.
   */
  byte[] heartbeat();
}
