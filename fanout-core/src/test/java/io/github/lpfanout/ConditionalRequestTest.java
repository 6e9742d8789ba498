package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.HttpDate;
import io.github.lpfanout.testing.RecordingSubscriber;
import io.github.lpfanout.testing.SteppingUpstream;
import io.github.lpfanout.testing.TimedUpstream;
import io.github.lpfanout.testing.TimedUpstream.Arrival;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A poller sends back the validators of the last response it delivered, and a 304 is a success
 * that delivers nothing, so a long-poll server that steps through its messages by validator gets
 * each one delivered exactly once, in order.
 */
class ConditionalRequestTest {
  private final List<AutoCloseable> cleanup = new ArrayList<>();
  private final RecordingSubscriber subscriber = new RecordingSubscriber("client");

  @AfterEach
  void stopEverything() throws Exception {
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      cleanup.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closeLater(T closeable) {
    cleanup.add(closeable);
    return closeable;
  }

  private static PollerRegistry.Builder registryBuilder() {
    return PollerRegistry.newBuilder()
        .minPollGap(Duration.ofMillis(5))
        .initialBackoff(Duration.ofMillis(50))
        .maxBackoff(Duration.ofMillis(200))
        .readTimeout(Duration.ofSeconds(5));
  }

  private void poll(PollerRegistry.Builder builder, String url) {
    PollerRegistry registry = closeLater(builder.build());
    closeLater(registry.subscribe(List.of(UpstreamUrl.of(url)), subscriber));
  }

  private static MockResponse answer(int code, String body, String... headerNamesAndValues) {
    MockResponse.Builder response = new MockResponse.Builder().code(code);
    if (body != null) {
      response.body(body);
    }
    for (int i = 0; i < headerNamesAndValues.length; i += 2) {
      response.setHeader(headerNamesAndValues[i], headerNamesAndValues[i + 1]);
    }
    return response.build();
  }

  private static long gapMillis(List<Arrival> requests, int index) {
    return TimeUnit.NANOSECONDS.toMillis(
        requests.get(index).nanos() - requests.get(index - 1).nanos());
  }

  @Test
  void theEtagOfTheLastDeliveredResponseIsSentBackAsIfNoneMatch() throws Exception {
    TimedUpstream upstream = closeLater(TimedUpstream.start());
    upstream
        .enqueue(answer(200, "one", "ETag", "W/\"v1\""))
        .enqueue(answer(304, null))
        .enqueue(answer(200, "two", "ETag", "\"v2\""))
        .enqueue(answer(304, null, "ETag", "\"v2\""));
    String url = upstream.url("/feed");
    poll(registryBuilder(), url);

    subscriber.assertDelivery(url, "one");
    subscriber.assertDelivery(url, "two");
    List<Arrival> requests = upstream.awaitArrivals(5);
    assertNull(requests.get(0).header("If-None-Match"));
    assertEquals("W/\"v1\"", requests.get(1).header("If-None-Match"));
    assertEquals("W/\"v1\"", requests.get(2).header("If-None-Match"), "a 304 keeps the ETag");
    assertEquals("\"v2\"", requests.get(3).header("If-None-Match"));
    assertEquals("\"v2\"", requests.get(4).header("If-None-Match"));
    subscriber.assertNoMoreDeliveries();
  }

  @Test
  void lastModifiedIsSentBackAsIfModifiedSinceUntilAResponseWithoutValidators() throws Exception {
    String lastModified = HttpDate.format(HttpDate.nowToTheSecond() - 86_400_000);
    TimedUpstream upstream = closeLater(TimedUpstream.start());
    upstream
        .enqueue(answer(200, "one", "Last-Modified", lastModified))
        .enqueue(answer(304, null))
        .enqueue(answer(200, "two"));
    String url = upstream.url("/feed");
    poll(registryBuilder(), url);

    subscriber.assertDelivery(url, "one");
    subscriber.assertDelivery(url, "two");
    List<Arrival> requests = upstream.awaitArrivals(4);
    assertNull(requests.get(0).header("If-Modified-Since"));
    assertEquals(lastModified, requests.get(1).header("If-Modified-Since"));
    assertEquals(lastModified, requests.get(2).header("If-Modified-Since"));
    assertNull(requests.get(3).header("If-Modified-Since"), "cleared by a 200 without one");
    assertNull(requests.get(3).header("If-None-Match"));
    subscriber.assertNoMoreDeliveries();
  }

  @Test
  void a304DeliversNothingAndIsNoFailure() throws Exception {
    TimedUpstream upstream = closeLater(TimedUpstream.start());
    upstream
        .enqueue(answer(200, "one", "ETag", "\"1\""))
        .enqueue(answer(304, null))
        .enqueue(answer(304, null))
        .enqueue(answer(200, "two", "ETag", "\"2\""));
    String url = upstream.url("/feed");
    // A failure would wait at least a second before the next request.
    poll(registryBuilder().initialBackoff(Duration.ofSeconds(2)).maxBackoff(Duration.ofSeconds(2)),
        url);

    subscriber.assertDelivery(url, "one");
    subscriber.assertDelivery(url, "two");
    List<Arrival> requests = upstream.awaitArrivals(4);
    for (int i = 1; i < 4; i++) {
      assertTrue(gapMillis(requests, i) < 1_000, "request " + i + " came after "
          + gapMillis(requests, i) + " ms, as if after a failure");
    }
    subscriber.assertNoMoreDeliveries();
  }

  @Test
  void a304PacesTheNextRequestByItsOwnFreshness() throws Exception {
    TimedUpstream upstream = closeLater(TimedUpstream.start());
    upstream
        .enqueue(answer(200, "one", "ETag", "\"1\""))
        .enqueue(answer(304, null, "Cache-Control", "max-age=1"))
        .enqueue(answer(200, "two", "ETag", "\"2\""));
    String url = upstream.url("/feed");
    poll(registryBuilder(), url);

    subscriber.assertDelivery(url, "one");
    subscriber.assertDelivery(url, "two");
    List<Arrival> requests = upstream.awaitArrivals(3);
    assertTrue(gapMillis(requests, 2) >= 1_000, "after " + gapMillis(requests, 2) + " ms");
  }

  @Test
  void a304EndsAFailingSpellAndTheNextFailureBacksOffFromTheStart() throws Exception {
    TimedUpstream upstream = closeLater(TimedUpstream.start());
    upstream
        .enqueue(answer(500, "down"))
        .enqueue(answer(500, "down"))
        .enqueue(answer(500, "down"))
        .enqueue(answer(304, null))
        .enqueue(answer(500, "down"))
        .enqueue(answer(200, "up"));
    String url = upstream.url("/feed");
    poll(registryBuilder().initialBackoff(Duration.ofMillis(200)).maxBackoff(Duration.ofSeconds(2)),
        url);

    subscriber.assertDelivery(url, "up");
    List<Arrival> requests = upstream.awaitArrivals(6);
    assertTrue(gapMillis(requests, 3) >= 400, "third failure: " + gapMillis(requests, 3) + " ms");
    // Had the 304 not reset the count, a fourth failure would wait at least 800 ms.
    assertTrue(gapMillis(requests, 5) >= 100 && gapMillis(requests, 5) < 800,
        "failure after the 304: " + gapMillis(requests, 5) + " ms");
    subscriber.assertNoMoreDeliveries();
  }

  @Test
  void aSteppingLongPollServerIsDeliveredEachMessageOnceInOrder() throws Exception {
    SteppingUpstream upstream = closeLater(new SteppingUpstream(Duration.ofMillis(50)));
    for (int i = 0; i < 5; i++) {
      upstream.publish();
    }
    String url = upstream.url("/feed");
    poll(registryBuilder(), url);

    for (int n = 1; n <= 5; n++) {
      subscriber.assertDelivery(url, SteppingUpstream.body(n));
    }
    Await.until("two holds answered 304", () -> upstream.notModifiedCount() >= 2);
    upstream.publishEvery(Duration.ofMillis(7));
    Await.until("40 messages published", () -> upstream.published() >= 40);
    int published = upstream.stop();

    for (int n = 6; n <= published; n++) {
      subscriber.assertDelivery(url, SteppingUpstream.body(n));
    }
    Await.until("the next hold answered 304",
        () -> upstream.notModifiedCount() >= 3 && upstream.requestCount() > published);
    subscriber.assertNoMoreDeliveries();
    assertEquals(List.of(), upstream.violations());
  }
}
