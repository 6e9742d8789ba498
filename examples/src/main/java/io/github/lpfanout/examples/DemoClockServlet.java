package io.github.lpfanout.examples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import javax.servlet.AsyncContext;
import javax.servlet.AsyncEvent;
import javax.servlet.AsyncListener;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * The demo upstream as a servlet: each request is held until the next whole second and answered
 * with the time, like {@link DemoClock} for the JDK server. No thread waits while a request is
 * held: the request is put in async mode and answered from {@code timer}. Register it with async
 * support.
 */
final class DemoClockServlet extends HttpServlet {
  private static final long serialVersionUID = 1L;

  private final transient ScheduledExecutorService timer;

  DemoClockServlet(ScheduledExecutorService timer) {
    this.timer = timer;
  }

  @Override
  protected void doGet(HttpServletRequest request, HttpServletResponse response) {
    AsyncContext async = request.startAsync();
    async.setTimeout(5_000);

    long untilNextSecond = 1000 - System.currentTimeMillis() % 1000;
    ScheduledFuture<?> answer =
        timer.schedule(() -> answer(async), untilNextSecond, TimeUnit.MILLISECONDS);
    async.addListener(new AsyncListener() {
      @Override
      public void onComplete(AsyncEvent event) {
        answer.cancel(false);
      }

      @Override
      public void onTimeout(AsyncEvent event) {
        answer.cancel(false);
      }

      @Override
      public void onError(AsyncEvent event) {
        answer.cancel(false);
      }

      @Override
      public void onStartAsync(AsyncEvent event) {
        // Started once, above.
      }
    });
  }

  /**
   * Writes the time. The body is far smaller than the response buffer, so the write only fills
   * the buffer and the container sends it when the request completes.
   */
  private static void answer(AsyncContext async) {
    try {
      HttpServletResponse response = (HttpServletResponse) async.getResponse();
      byte[] body = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString()
          .getBytes(StandardCharsets.UTF_8);
      response.setContentType("text/plain; charset=utf-8");
      response.setHeader("Cache-Control", "no-cache");
      response.setContentLength(body.length);
      response.getOutputStream().write(body);
      async.complete();
    } catch (IOException | IllegalStateException e) {
      // The poller went away while the request was held; nothing to answer.
    }
  }
}
