package io.github.lpfanout.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A long-polling upstream for trying the proxy: each request is held until the next whole second
 * and answered with the time. No thread waits while a request is held.
 */
final class DemoClock implements HttpHandler {
  private final ScheduledExecutorService timer;

  DemoClock(ScheduledExecutorService timer) {
    this.timer = timer;
  }

  /** A timer of one daemon thread for the clock; the caller stops it with {@link #stop}. */
  static ScheduledExecutorService newTimer() {
    return Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "fanout-demo-clock");
      thread.setDaemon(true);
      return thread;
    });
  }

  /**
   * Stops {@code timer} and waits briefly for its thread to end, so that a container checking for
   * threads left behind by the application finds none.
   */
  static void stop(ScheduledExecutorService timer) {
    timer.shutdownNow();
    try {
      timer.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void handle(HttpExchange exchange) {
    long now = System.currentTimeMillis();
    long untilNextSecond = 1000 - now % 1000;
    timer.schedule(() -> answer(exchange), untilNextSecond, TimeUnit.MILLISECONDS);
  }

  private static void answer(HttpExchange exchange) {
    try (exchange) {
      String time = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
      byte[] body = time.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
      exchange.getResponseHeaders().set("Cache-Control", "no-cache");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
    } catch (IOException e) {
      // The poller went away while the request was held; nothing to answer.
    }
  }
}
