package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.HttpDate;
import io.github.lpfanout.testing.RecordingSubscriber;
import io.github.lpfanout.testing.TimedUpstream;
import io.github.lpfanout.testing.TimedUpstream.Arrival;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Caching headers and {@code Retry-After} set the pace of polling, against a real upstream on
 * loopback that records when each request arrives. Lower bounds are strict; upper bounds leave
 * room for a loaded machine and only have to tell "waited" from "did not wait".
 */
class PollingPaceTest {
  private TimedUpstream upstream;
  private PollerRegistry registry;
  private Subscription subscription;
  private final RecordingSubscriber subscriber = new RecordingSubscriber("client");

  @BeforeEach
  void startUpstream() throws Exception {
    upstream = TimedUpstream.start();
  }

  @AfterEach
  void stopEverything() {
    if (subscription != null) {
      subscription.close();
    }
    if (registry != null) {
      registry.close();
    }
    upstream.close();
  }

  private static PollerRegistry.Builder registryBuilder() {
    return PollerRegistry.newBuilder()
        .minPollGap(Duration.ofMillis(5))
        .initialBackoff(Duration.ofMillis(50))
        .maxBackoff(Duration.ofMillis(200))
        .readTimeout(Duration.ofSeconds(5));
  }

  private String poll(PollerRegistry.Builder builder) {
    registry = builder.build();
    String url = upstream.url("/feed");
    subscription = registry.subscribe(List.of(UpstreamUrl.of(url)), subscriber);
    return url;
  }

  private static MockResponse ok(String body, String... headerNamesAndValues) {
    MockResponse.Builder response = new MockResponse.Builder().body(body);
    for (int i = 0; i < headerNamesAndValues.length; i += 2) {
      response.setHeader(headerNamesAndValues[i], headerNamesAndValues[i + 1]);
    }
    return response.build();
  }

  private static long gapMillis(Arrival earlier, Arrival later) {
    return TimeUnit.NANOSECONDS.toMillis(later.nanos() - earlier.nanos());
  }

  private static void assertGap(long atLeast, long below, long gap, String what) {
    assertTrue(gap >= atLeast && gap < below,
        what + ": " + gap + " ms between requests, expected at least " + atLeast
            + " ms and less than " + below + " ms");
  }

  @Test
  void maxAgeHoldsBackTheNextRequestUntilTheResponseIsStale() throws Exception {
    upstream.enqueue(ok("first", "Cache-Control", "max-age=1")).enqueue("second");
    String url = poll(registryBuilder());

    subscriber.assertDelivery(url, "first");
    subscriber.assertDelivery(url, "second");
    List<Arrival> requests = upstream.awaitArrivals(2);
    assertGap(1_000, 4_000, gapMillis(requests.get(0), requests.get(1)), "max-age=1");
    subscriber.assertNoMoreDeliveries();
  }

  @Test
  void sMaxAgeWinsOverMaxAgeForThisSharedCache() throws Exception {
    upstream.enqueue(ok("first", "Cache-Control", "max-age=60, s-maxage=1")).enqueue("second");
    String url = poll(registryBuilder());

    subscriber.assertDelivery(url, "first");
    subscriber.assertDelivery(url, "second");
    List<Arrival> requests = upstream.awaitArrivals(2);
    assertGap(1_000, 4_000, gapMillis(requests.get(0), requests.get(1)), "s-maxage=1");
  }

  @Test
  void theAgeHeaderShortensTheWait() throws Exception {
    upstream.enqueue(ok("first", "Cache-Control", "max-age=3", "Age", "2")).enqueue("second");
    String url = poll(registryBuilder());

    subscriber.assertDelivery(url, "first");
    subscriber.assertDelivery(url, "second");
    List<Arrival> requests = upstream.awaitArrivals(2);
    assertGap(1_000, 2_600, gapMillis(requests.get(0), requests.get(1)), "max-age=3, Age: 2");
  }

  @Test
  void expiresIsTheInstantTheResponseGoesStaleCountingItsDate() throws Exception {
    long date = HttpDate.nowToTheSecond() - 1_000;
    long stale = date + 3_000;
    upstream.enqueue(ok("first",
        "Date", HttpDate.format(date), "Expires", HttpDate.format(stale))).enqueue("second");
    String url = poll(registryBuilder());

    subscriber.assertDelivery(url, "first");
    subscriber.assertDelivery(url, "second");
    Arrival next = upstream.awaitArrivals(2).get(1);
    assertTrue(next.wallMillis() >= stale - 1,
        "sent " + (stale - next.wallMillis()) + " ms before the response went stale");
    assertTrue(next.wallMillis() < stale + 2_000, "sent " + (next.wallMillis() - stale)
        + " ms after the response went stale");
  }

  @Test
  void aCeilingKeepsAVeryLongMaxAgeFromSilencingTheUrl() throws Exception {
    upstream.enqueue(ok("first", "Cache-Control", "max-age=86400")).enqueue("second");
    String url = poll(registryBuilder().maxFreshnessWait(Duration.ofMillis(300)));

    subscriber.assertDelivery(url, "first");
    subscriber.assertDelivery(url, "second");
    List<Arrival> requests = upstream.awaitArrivals(2);
    assertGap(300, 3_000, gapMillis(requests.get(0), requests.get(1)), "max-age=86400");
  }

  @Test
  void noCacheNoStoreAndMaxAgeZeroDoNotHoldBackTheNextRequest() throws Exception {
    upstream
        .enqueue(ok("no-cache", "Cache-Control", "no-cache, max-age=60"))
        .enqueue(ok("no-store",
            "Cache-Control", "no-store", "Expires", "Fri, 01 Jan 2100 00:00:00 GMT"))
        .enqueue(ok("max-age=0", "Cache-Control", "max-age=0"))
        .enqueue("last");
    String url = poll(registryBuilder());

    for (String body : List.of("no-cache", "no-store", "max-age=0", "last")) {
      subscriber.assertDelivery(url, body);
    }
    // Only the minimum gap, which PollTimingTest checks, separates these requests. It runs from
    // the start of one request to the start of the next, which the upstream cannot see exactly.
    List<Arrival> requests = upstream.awaitArrivals(4);
    for (int i = 1; i < 4; i++) {
      assertGap(0, 2_000, gapMillis(requests.get(i - 1), requests.get(i)), "request " + i);
    }
  }

  @Test
  void aRetryAfterBeyondItsCeilingIsCutToTheCeiling() throws Exception {
    upstream
        .enqueue(new MockResponse.Builder().code(503).setHeader("Retry-After", "3600").build())
        .enqueue("back");
    String url = poll(registryBuilder().maxRetryAfter(Duration.ofMillis(400)));

    subscriber.assertDelivery(url, "back");
    List<Arrival> requests = upstream.awaitArrivals(2);
    assertGap(400, 3_000, gapMillis(requests.get(0), requests.get(1)), "Retry-After: 3600");
    subscriber.assertNoMoreDeliveries();
  }
}
