package io.github.lpfanout.testing;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** Formats instants as HTTP dates (IMF-fixdate, RFC 9110 5.6.7), for scripted headers. */
public final class HttpDate {
  private static final DateTimeFormatter IMF_FIXDATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US)
          .withZone(ZoneOffset.UTC);

  private HttpDate() {}

  /** {@code millis} since the epoch as an HTTP date; the milliseconds are dropped. */
  public static String format(long millis) {
    return IMF_FIXDATE.format(Instant.ofEpochMilli(millis));
  }

  /** The current time rounded down to a whole second, which an HTTP date can state exactly. */
  public static long nowToTheSecond() {
    long now = System.currentTimeMillis();
    return now - now % 1000;
  }
}
