package io.github.lpfanout;

import java.io.IOException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls one upstream URL, one request at a time, and hands each good response body to its topic.
 *
 * <p>The loop's state is guarded by {@code this}; the topic, and so every subscriber, is called
 * without that lock held.
 */
final class Poller implements Callback {
  private static final Logger log = LoggerFactory.getLogger(Poller.class);

  private final HttpUrl url;
  private final OkHttpClient client;
  private final ScheduledExecutorService scheduler;
  private final PollTiming timing;
  private final long maxBodyBytes;
  private final Request request;
  private final Consumer<Message> topic;

  private boolean started;
  private boolean stopped;
  private Call call;
  private ScheduledFuture<?> next;
  private long lastStartNanos;
  private int failures;

  Poller(
      HttpUrl url,
      OkHttpClient client,
      ScheduledExecutorService scheduler,
      PollTiming timing,
      long maxBodyBytes,
      Consumer<Message> topic) {
    this.url = url;
    this.topic = topic;
    this.client = client;
    this.scheduler = scheduler;
    this.timing = timing;
    this.maxBodyBytes = maxBodyBytes;
    this.request = new Request.Builder().url(url).get().build();
  }

  void start() {
    synchronized (this) {
      if (started || stopped) {
        return;
      }
      started = true;
    }
    log.info("Polling {}", url);
    poll();
  }

  /** Cancels the call in flight and any scheduled one. Nothing is delivered afterwards. */
  void stop() {
    Call inFlight;
    ScheduledFuture<?> scheduled;
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
      inFlight = call;
      scheduled = next;
      call = null;
      next = null;
    }

    if (inFlight != null) {
      inFlight.cancel();
    }
    if (scheduled != null) {
      scheduled.cancel(false);
    }
    log.info("Stopped polling {}", url);
  }

  private void poll() {
    Call newCall;
    synchronized (this) {
      if (stopped) {
        return;
      }
      next = null;
      newCall = client.newCall(request);
      call = newCall;
      lastStartNanos = System.nanoTime();
    }
    newCall.enqueue(this);
  }

  @Override
  public void onResponse(Call finished, Response response) {
    try (response) {
      if (!isCurrent(finished)) {
        return;
      }
      if (!response.isSuccessful()) {
        failed(finished, "HTTP " + response.code());
        return;
      }
      byte[] body = readBody(response.body());
      if (body == null) {
        failed(finished, "body larger than " + maxBodyBytes + " bytes");
        return;
      }

      Message message = new Message(url.toString(), body, response.header("Content-Type"));
      if (isCurrent(finished)) {
        topic.accept(message);
        succeeded(finished);
      }
    } catch (IOException e) {
      failed(finished, e.toString());
    }
  }

  @Override
  public void onFailure(Call failed, IOException e) {
    failed(failed, e.toString());
  }

  /** Reads the whole body, or returns null if it is larger than the cap. */
  private byte[] readBody(ResponseBody body) throws IOException {
    if (body.contentLength() > maxBodyBytes) {
      return null;
    }
    BufferedSource source = body.source();
    if (source.request(maxBodyBytes + 1)) {
      return null;
    }
    return source.getBuffer().readByteArray();
  }

  private void succeeded(Call finished) {
    int previousFailures;
    long delay;
    synchronized (this) {
      previousFailures = failures;
      failures = 0;
      delay = timing.delayAfterSuccessNanos(lastStartNanos, System.nanoTime());
    }

    if (previousFailures > 0) {
      log.info("Upstream {} recovered after {} failed polls", url, previousFailures);
    }
    schedule(finished, delay);
  }

  private void failed(Call finished, String reason) {
    int failuresNow;
    long delay;
    synchronized (this) {
      if (stopped || call != finished) {
        return;
      }
      failuresNow = ++failures;
      delay = timing.delayAfterFailureNanos(failuresNow, lastStartNanos, System.nanoTime());
    }

    if (failuresNow == 1) {
      log.warn("Upstream {} failing ({}), backing off", url, reason);
    } else {
      log.debug("Upstream {} failed {} times in a row ({}), next try in {} ms",
          url, failuresNow, reason, TimeUnit.NANOSECONDS.toMillis(delay));
    }
    schedule(finished, delay);
  }

  private synchronized void schedule(Call finished, long delayNanos) {
    if (stopped || call != finished) {
      return;
    }
    call = null;
    try {
      next = scheduler.schedule(this::poll, delayNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      log.debug("Scheduler refused the next poll of {}; the registry is closing", url);
    }
  }

  private synchronized boolean isCurrent(Call finished) {
    return !stopped && call == finished;
  }

  @Override
  public String toString() {
    return "Poller{" + url + "}";
  }
}
