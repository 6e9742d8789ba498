package io.github.lpfanout.testing;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.sse.EventSource;
import okhttp3.sse.EventSourceListener;
import okhttp3.sse.EventSources;

/**
 * An SSE client built on OkHttp's EventSource parser that queues every event it receives. A test
 * takes the events it expects and then checks that nothing else arrived.
 *
 * <p>Every event a registry delivers carries an id that differs from run to run. {@link #next()}
 * and {@link #poll} therefore give each event without its id, for tests that check what arrived;
 * {@link #nextWithId()} gives it with the id, for tests of ids and resuming.
 */
public final class SseRecorder implements AutoCloseable {

  /** One dispatched event: its type, its data, and its id, or the last id before it, or null. */
  public record Event(String type, String data, String id) {

    /** This event with a null id. */
    public Event withoutId() {
      return new Event(type, data, null);
    }
  }

  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final CompletableFuture<Response> opened = new CompletableFuture<>();
  private final CompletableFuture<Throwable> ended = new CompletableFuture<>();
  private final EventSource source;

  private SseRecorder(OkHttpClient client, Request request) {
    this.source = EventSources.createFactory(client).newEventSource(request, new Listener());
  }

  /** Connects to {@code url} with the given client. */
  public static SseRecorder connect(OkHttpClient client, String url) {
    return new SseRecorder(client, new Request.Builder().url(url).build());
  }

  /** Connects with a request of the caller's, for custom headers. */
  public static SseRecorder connect(OkHttpClient client, Request request) {
    return new SseRecorder(client, request);
  }

  /** Waits for the response headers and returns the response. */
  public Response awaitOpen() throws Exception {
    return opened.get(10, TimeUnit.SECONDS);
  }

  /** The next event without its id, failing if none arrives within 10 seconds. */
  public Event next() throws InterruptedException {
    return next(Duration.ofSeconds(10));
  }

  /** The next event without its id, failing if none arrives within {@code timeout}. */
  public Event next(Duration timeout) throws InterruptedException {
    return nextWithId(timeout).withoutId();
  }

  /** The next event with its id, failing if none arrives within 10 seconds. */
  public Event nextWithId() throws InterruptedException {
    return nextWithId(Duration.ofSeconds(10));
  }

  /** The next event with its id, failing if none arrives within {@code timeout}. */
  public Event nextWithId(Duration timeout) throws InterruptedException {
    Event event = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (event == null) {
      throw new AssertionError("no event within " + timeout.toMillis() + " ms"
          + (ended.isDone() ? "; the stream ended: " + ended.getNow(null) : ""));
    }
    return event;
  }

  /** The next event without its id if one arrives within {@code timeout}, else null. */
  public Event poll(Duration timeout) throws InterruptedException {
    Event event = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    return event == null ? null : event.withoutId();
  }

  /** Events received and not yet taken. */
  public int pending() {
    return events.size();
  }

  /** Whether the stream has ended, cleanly or not. */
  public boolean isEnded() {
    return ended.isDone();
  }

  @Override
  public void close() {
    source.cancel();
  }

  private final class Listener extends EventSourceListener {
    @Override
    public void onOpen(EventSource eventSource, Response response) {
      opened.complete(response);
    }

    @Override
    public void onEvent(EventSource eventSource, String id, String type, String data) {
      events.add(new Event(type, data, id));
    }

    @Override
    public void onClosed(EventSource eventSource) {
      ended.complete(null);
    }

    @Override
    public void onFailure(EventSource eventSource, Throwable t, Response response) {
      AssertionError failure = new AssertionError("SSE stream failed"
          + (response == null ? "" : " with HTTP " + response.code()) + ": " + t, t);
      opened.completeExceptionally(failure);
      ended.complete(failure);
    }
  }
}
