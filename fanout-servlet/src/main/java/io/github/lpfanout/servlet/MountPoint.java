package io.github.lpfanout.servlet;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the raw request target below the path a servlet is mounted at.
 *
 * <p>The container hands the servlet its context path and servlet path decoded and normalized, and
 * the request URI raw. The two cannot be compared by length: {@code %2C} is three characters raw
 * and one decoded, and a container may have collapsed {@code //} or dropped {@code ;param} and
 * {@code .} segments while matching. So the raw URI is walked one segment at a time, each segment
 * decoded and stripped of path parameters, and matched against the mount path's segments; empty
 * and {@code .} segments are passed over, as containers do when they map a request. What follows
 * the last matched segment is the target, exactly as it arrived.
 */
final class MountPoint {

  private MountPoint() {}

  /**
   * Returns the raw target below {@code mountPath}: the rest of the raw path, then {@code "?"} and
   * the raw query if there is one. Returns null if the raw path does not start with the mount
   * path's segments, which happens only when the container resolved {@code ..} segments inside the
   * mount path itself.
   *
   * @param requestUri the raw request URI path, as {@code HttpServletRequest.getRequestURI()}
   * @param mountPath the decoded context path followed by the decoded servlet path, possibly empty
   * @param rawQuery the raw query string, or null
   */
  static String relativeTarget(String requestUri, String mountPath, String rawQuery) {
    int position = 0;
    for (String expected : segments(mountPath)) {
      position = skipTo(requestUri, position, expected);
      if (position < 0) {
        return null;
      }
    }

    String path = requestUri.substring(position);
    return rawQuery == null ? path : path + "?" + rawQuery;
  }

  /**
   * Passes over the raw segments from {@code position} up to and including the first one that is
   * neither empty nor {@code .}; returns the position after it if it decodes to {@code expected},
   * else -1.
   */
  private static int skipTo(String raw, int position, String expected) {
    while (position < raw.length() && raw.charAt(position) == '/') {
      int end = raw.indexOf('/', position + 1);
      end = end < 0 ? raw.length() : end;
      String segment = decodedSegment(raw.substring(position + 1, end));
      position = end;
      if (segment == null) {
        return -1;
      }
      if (segment.isEmpty() || segment.equals(".")) {
        continue;
      }
      return segment.equals(expected) ? position : -1;
    }
    return -1;
  }

  private static List<String> segments(String path) {
    List<String> segments = new ArrayList<>();
    for (String segment : path.split("/")) {
      if (!segment.isEmpty() && !segment.equals(".")) {
        segments.add(segment);
      }
    }
    return segments;
  }

  /** A raw segment without its {@code ;parameters}, percent-decoded as UTF-8; null if malformed. */
  private static String decodedSegment(String raw) {
    int semicolon = raw.indexOf(';');
    String segment = semicolon < 0 ? raw : raw.substring(0, semicolon);
    if (segment.indexOf('%') < 0) {
      return segment;
    }

    ByteArrayOutputStream bytes = new ByteArrayOutputStream(segment.length());
    for (int i = 0; i < segment.length(); i++) {
      char c = segment.charAt(i);
      if (c != '%') {
        bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
        continue;
      }
      if (i + 2 >= segment.length()) {
        return null;
      }
      int high = Character.digit(segment.charAt(i + 1), 16);
      int low = Character.digit(segment.charAt(i + 2), 16);
      if (high < 0 || low < 0) {
        return null;
      }
      bytes.write(high * 16 + low);
      i += 2;
    }

    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
