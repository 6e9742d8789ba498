package io.github.lpfanout.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.github.lpfanout.Message;
import io.github.lpfanout.Subscriber;
import io.github.lpfanout.UpstreamUrl;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A subscriber that queues every message it receives. A test takes each delivery it expects and
 * ends with {@link #assertNoMoreDeliveries()}, so that a surplus delivery fails it.
 */
public final class RecordingSubscriber implements Subscriber {
  private static final Duration TAKE_BOUND = Duration.ofSeconds(5);

  private final String name;
  private final BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();

  public RecordingSubscriber(String name) {
    this.name = name;
  }

  /** One call of {@link #onMessage}: the URL as subscribed, and the message. */
  public record Delivery(UpstreamUrl url, Message message) {

    /** The body decoded as UTF-8. */
    public String body() {
      return new String(message.body(), StandardCharsets.UTF_8);
    }
  }

  @Override
  public void onMessage(UpstreamUrl url, Message message) {
    deliveries.add(new Delivery(url, message));
  }

  /** Returns the next delivery, failing if none arrives within 5 seconds. */
  public Delivery takeDelivery() throws InterruptedException {
    Delivery delivery = deliveries.poll(TAKE_BOUND.toMillis(), TimeUnit.MILLISECONDS);
    assertNotNull(delivery, name + " received nothing within " + TAKE_BOUND.toMillis() + " ms");
    return delivery;
  }

  /** Takes the next delivery and checks its URL spelling and UTF-8 body. */
  public void assertDelivery(String spelling, String body) throws InterruptedException {
    Delivery delivery = takeDelivery();
    assertEquals(spelling, delivery.url().spelling(), name + ": URL");
    assertEquals(body, delivery.body(), name + ": body");
  }

  /** Fails if a delivery arrives within {@code window}. */
  public void assertNoDeliveryWithin(Duration window) throws InterruptedException {
    Delivery delivery = deliveries.poll(window.toMillis(), TimeUnit.MILLISECONDS);
    assertNull(delivery, name + " received an unexpected delivery");
  }

  /** Fails if a delivery is queued that the test did not take. */
  public void assertNoMoreDeliveries() {
    assertNull(deliveries.peek(), name + " received an unexpected delivery");
  }

  @Override
  public String toString() {
    return "RecordingSubscriber{" + name + "}";
  }
}
