package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lpfanout.testing.HttpDate;
import okhttp3.Headers;
import org.junit.jupiter.api.Test;

/** How response headers set the pace: freshness (RFC 9111 4.2) and {@code Retry-After}. */
class PacingHeadersTest {
  /** A whole second, as HTTP dates can state it: 2026-11-14T22:13:20Z. */
  private static final long T = 1_794_700_000_000L;

  private static long freshFor(long receivedAt, long now, String... namesAndValues) {
    return PacingHeaders.freshForMillis(Headers.of(namesAndValues), receivedAt, now);
  }

  private static long retryAfter(long receivedAt, long now, String... namesAndValues) {
    return PacingHeaders.retryAfterMillis(Headers.of(namesAndValues), receivedAt, now);
  }

  private static String date(long millis) {
    return HttpDate.format(millis);
  }

  // --- Freshness lifetime ---------------------------------------------------------------------

  @Test
  void maxAgeIsFreshForItsSecondsLessTheTimeSinceReceipt() {
    assertEquals(60_000, freshFor(T, T, "Cache-Control", "max-age=60"));
    assertEquals(50_000, freshFor(T, T + 10_000, "Cache-Control", "max-age=60"));
    assertEquals(0, freshFor(T, T + 61_000, "Cache-Control", "max-age=60"));
  }

  @Test
  void sMaxAgeWinsOverMaxAgeBecauseTheRegistryIsASharedCache() {
    assertEquals(30_000, freshFor(T, T, "Cache-Control", "max-age=600, s-maxage=30"));
    assertEquals(0, freshFor(T, T, "Cache-Control", "s-maxage=0, max-age=600"));
  }

  @Test
  void maxAgeWinsOverExpires() {
    assertEquals(10_000, freshFor(T, T,
        "Cache-Control", "max-age=10", "Date", date(T), "Expires", date(T + 3_600_000)));
  }

  @Test
  void expiresCountsFromTheResponsesOwnDate() {
    assertEquals(120_000, freshFor(T, T, "Date", date(T), "Expires", date(T + 120_000)));
    // The server's clock is 10 s behind ours: the lifetime is still Expires - Date, aged by the
    // 10 s the response appears to have spent on the way.
    assertEquals(110_000, freshFor(T + 10_000, T + 10_000,
        "Date", date(T), "Expires", date(T + 120_000)));
  }

  @Test
  void expiresWithoutDateCountsFromReceipt() {
    assertEquals(5_000, freshFor(T, T, "Expires", date(T + 5_000)));
  }

  @Test
  void anExpiresInThePastOrMalformedIsStale() {
    assertEquals(0, freshFor(T, T, "Date", date(T), "Expires", date(T - 1_000)));
    assertEquals(0, freshFor(T, T, "Expires", "0"));
    assertEquals(0, freshFor(T, T, "Expires", "tomorrow"));
  }

  @Test
  void aResponseThatStatesNoFreshnessIsStale() {
    assertEquals(0, freshFor(T, T));
    assertEquals(0, freshFor(T, T, "ETag", "\"1\"", "Last-Modified", date(T - 86_400_000)));
    assertEquals(0, freshFor(T, T, "Cache-Control", "public, must-revalidate"));
  }

  // --- Age --------------------------------------------------------------------------------------

  @Test
  void theAgeHeaderIsCounted() {
    assertEquals(15_000, freshFor(T, T, "Cache-Control", "max-age=60", "Age", "45"));
    assertEquals(0, freshFor(T, T, "Cache-Control", "max-age=60", "Age", "90"));
  }

  @Test
  void theApparentAgeFromDateIsCounted() {
    assertEquals(40_000, freshFor(T, T, "Cache-Control", "max-age=60", "Date", date(T - 20_000)));
  }

  @Test
  void theLargerOfAgeAndApparentAgeCounts() {
    assertEquals(30_000, freshFor(T, T,
        "Cache-Control", "max-age=60", "Date", date(T - 20_000), "Age", "30"));
    assertEquals(35_000, freshFor(T, T,
        "Cache-Control", "max-age=60", "Date", date(T - 25_000), "Age", "5"));
  }

  @Test
  void aDateAheadOfOurClockIsNoAge() {
    assertEquals(60_000, freshFor(T, T, "Cache-Control", "max-age=60", "Date", date(T + 30_000)));
  }

  @Test
  void aMalformedAgeIsIgnored() {
    assertEquals(60_000, freshFor(T, T, "Cache-Control", "max-age=60", "Age", "old"));
    assertEquals(60_000, freshFor(T, T, "Cache-Control", "max-age=60", "Age", "-5"));
  }

  // --- Directives -----------------------------------------------------------------------------

  @Test
  void noCacheNoStoreAndMaxAgeZeroAreStaleWhateverElseIsSaid() {
    assertEquals(0, freshFor(T, T, "Cache-Control", "no-cache, max-age=60"));
    assertEquals(0, freshFor(T, T, "Cache-Control", "max-age=60, no-cache=\"Set-Cookie\""));
    assertEquals(0, freshFor(T, T, "Cache-Control", "no-store", "Expires", date(T + 60_000)));
    assertEquals(0, freshFor(T, T, "Cache-Control", "max-age=0", "Expires", date(T + 60_000)));
  }

  @Test
  void aMalformedFreshnessDirectiveIsStaleAndDoesNotFallBackToExpires() {
    assertEquals(0, freshFor(T, T, "Cache-Control", "max-age=soon", "Expires", date(T + 60_000)));
    assertEquals(0, freshFor(T, T, "Cache-Control", "max-age=-1"));
    assertEquals(0, freshFor(T, T, "Cache-Control", "max-age"));
  }

  @Test
  void directivesAreCaseInsensitiveMayBeQuotedAndTheFirstOccurrenceCounts() {
    assertEquals(20_000, freshFor(T, T, "Cache-Control", "MAX-AGE=\"20\""));
    assertEquals(5_000, freshFor(T, T, "Cache-Control", "max-age=5, max-age=60"));
    Headers twoLines = new Headers.Builder()
        .add("Cache-Control", "public, max-age=7")
        .add("Cache-Control", "max-age=70, s-maxage=3")
        .build();
    assertEquals(3_000, PacingHeaders.freshForMillis(twoLines, T, T));
  }

  @Test
  void aCommaInsideAQuotedValueDoesNotSplitDirectives() {
    assertEquals(0, freshFor(T, T, "Cache-Control", "no-cache=\"a, max-age=60\""));
    assertEquals(9_000, freshFor(T, T, "Cache-Control", "private=\"x, y\", max-age=9"));
  }

  @Test
  void aHugeDeltaCountsAsTwoToTheThirtyFirstSeconds() {
    assertEquals((1L << 31) * 1000,
        freshFor(T, T, "Cache-Control", "max-age=99999999999999999999999"));
  }

  // --- Retry-After ----------------------------------------------------------------------------

  @Test
  void retryAfterSecondsCountFromReceipt() {
    assertEquals(120_000, retryAfter(T, T, "Retry-After", "120"));
    assertEquals(119_000, retryAfter(T, T + 1_000, "Retry-After", "120"));
    assertEquals(0, retryAfter(T, T + 121_000, "Retry-After", "120"));
  }

  @Test
  void aRetryAfterDateIsMeasuredAgainstTheResponsesOwnDate() {
    // Our clock is 10 s ahead of the server's; the server asked for 30 s, and gets 30 s.
    assertEquals(30_000, retryAfter(T + 10_000, T + 10_000,
        "Date", date(T), "Retry-After", date(T + 30_000)));
  }

  @Test
  void aRetryAfterDateWithoutDateIsMeasuredAgainstReceipt() {
    assertEquals(30_000, retryAfter(T, T, "Retry-After", date(T + 30_000)));
    assertEquals(0, retryAfter(T, T, "Retry-After", date(T - 30_000)));
  }

  @Test
  void anAbsentOrMalformedRetryAfterAsksForNoWait() {
    assertEquals(0, retryAfter(T, T));
    assertEquals(0, retryAfter(T, T, "Retry-After", "-5"));
    assertEquals(0, retryAfter(T, T, "Retry-After", "1.5"));
    assertEquals(0, retryAfter(T, T, "Retry-After", "later"));
  }
}
