package io.github.lpfanout;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Reads the id of the last event a reconnecting client received, the one place that rule lives.
 *
 * <p>The {@code Last-Event-ID} header comes first: a browser's {@code EventSource} sends it by
 * itself when it reconnects. A client that cannot set headers may name the id as the {@code
 * lastEventId} parameter of the query form instead ({@code /sse?url=...&lastEventId=<id>}). In the
 * path form the query string belongs to the last upstream URL, so it is never read there: {@code
 * /sse/http://a.example/x?lastEventId=3} polls that URL, query and all. The header wins over the
 * parameter, since a page that put an id in the URL gets the browser's newer one in the header
 * when the browser reconnects to that same URL.
 */
final class LastEventId {
  static final String HEADER = "Last-Event-ID";
  static final String PARAMETER = "lastEventId";

  private LastEventId() {}

  /** The id the client last received, or null if it names none. */
  static String of(StreamRequest request) {
    List<String> header = request.header(HEADER);
    if (!header.isEmpty() && !header.get(0).isBlank()) {
      return header.get(0).trim();
    }

    String target = request.target().startsWith("/")
        ? request.target().substring(1)
        : request.target();
    int slash = target.indexOf('/');
    int question = target.indexOf('?');
    if (question < 0 || (slash >= 0 && slash < question)) {
      return null;
    }
    for (String parameter : target.substring(question + 1).split("&")) {
      int equals = parameter.indexOf('=');
      if (equals > 0 && parameter.substring(0, equals).equals(PARAMETER)) {
        return decode(parameter.substring(equals + 1));
      }
    }
    return null;
  }

  private static String decode(String value) {
    try {
      String decoded = URLDecoder.decode(value, StandardCharsets.UTF_8);
      return decoded.isBlank() ? null : decoded.trim();
    } catch (IllegalArgumentException malformed) {
      return value;
    }
  }
}
