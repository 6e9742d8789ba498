package io.github.lpfanout;

import java.util.Objects;
import okhttp3.HttpUrl;

/**
 * One upstream URL a client subscribed to.
 *
 * <p>{@link #spelling()} is the URL as the client wrote it, after the request target was split,
 * decoded and repaired; it is what the client's frames carry and what the authorizer sees.
 * {@link #canonical()} is the form pollers are keyed by: lower-case scheme and host, default port
 * dropped, no fragment. Two clients that spell one URL differently share its poller and each
 * receives frames with its own spelling.
 *
 * @param spelling the URL as the client wrote it
 * @param url the parsed URL that is polled
 */
public record UpstreamUrl(String spelling, HttpUrl url) {

  public UpstreamUrl {
    Objects.requireNonNull(spelling, "spelling");
    Objects.requireNonNull(url, "url");
  }

  /** Returns the key shared by every spelling of this URL. */
  public String canonical() {
    return url.toString();
  }

  /**
   * Parses an absolute http or https URL that needs no further decoding, as a Java caller would
   * name it.
   *
   * @throws IllegalArgumentException if {@code spelling} is not an absolute http or https URL
   */
  public static UpstreamUrl of(String spelling) {
    HttpUrl url = HttpUrl.parse(spelling);
    if (url == null) {
      throw new IllegalArgumentException("not an absolute http or https URL: " + spelling);
    }
    return new UpstreamUrl(spelling, url.newBuilder().fragment(null).build());
  }
}
