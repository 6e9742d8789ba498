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
 * <p>Between requests it keeps what the upstream said: the {@code ETag} and {@code Last-Modified}
 * of the last delivered response, sent back as {@code If-None-Match} and {@code If-Modified-Since}
 * so that a 304 can say "nothing new" (a success that delivers nothing); how long that response
 * stays fresh, which holds back the next request; and a {@code Retry-After} on a failure, which
 * holds back the retry. {@link PacingHeaders} reads those headers and {@link PollTiming} turns
 * them into a delay.
 *
 * <p>The loop's state is guarded by {@code this}; the topic, and so every subscriber, is called
 * without that lock held, on the HTTP client's dispatcher thread.
 *
 * <p>Note: a response that is not delivered (a body over the cap, cut off, or malformed) leaves
 * the validators as they were, so the retry asks for the same message again. A long-poll server
 * that steps through its messages by validator and has one over the cap keeps answering it, and
 * the URL stays failing, at the longest backoff, until the upstream changes.
 */
final class Poller implements Callback {
  private static final Logger log = LoggerFactory.getLogger(Poller.class);

  private final HttpUrl url;
  private final OkHttpClient client;
  private final ScheduledExecutorService scheduler;
  private final PollTiming timing;
  private final long maxBodyBytes;
  private final Consumer<Message> topic;

  private boolean started;
  private boolean stopped;
  private final Counters counters;
  private final String via;

  private Call call;
  private ScheduledFuture<?> next;
  private long lastStartNanos;
  private int failures;
  private String etag;
  private String lastModified;

  Poller(HttpUrl url, Settings settings, Consumer<Message> topic) {
    this.url = url;
    this.topic = topic;
    this.client = settings.client();
    this.scheduler = settings.scheduler();
    this.timing = settings.timing();
    this.maxBodyBytes = settings.maxBodyBytes();
    this.counters = settings.counters();
    this.via = settings.via();
  }

  /**
   * What every poller of a registry shares.
   *
   * @param via the {@code Via} header value every poll carries, by which a fanout recognises a
   *     request from its own registry and refuses to poll itself
   */
  record Settings(
      OkHttpClient client,
      ScheduledExecutorService scheduler,
      PollTiming timing,
      long maxBodyBytes,
      Counters counters,
      String via) {}

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
      newCall = client.newCall(conditionalRequest());
      call = newCall;
      lastStartNanos = System.nanoTime();
    }
    counters.requestsInFlight.incrementAndGet();
    newCall.enqueue(this);
  }

  /** A GET of the URL carrying the validators of the last delivered response. */
  private synchronized Request conditionalRequest() {
    Request.Builder request = new Request.Builder().url(url).header("Via", via).get();
    if (etag != null) {
      request.header("If-None-Match", etag);
    }
    if (lastModified != null) {
      request.header("If-Modified-Since", lastModified);
    }
    return request.build();
  }

  @Override
  public void onResponse(Call finished, Response response) {
    counters.requestsInFlight.decrementAndGet();
    try (response) {
      if (!isCurrent(finished)) {
        return;
      }
      if (response.code() == 304) {
        succeeded(finished, response, false);
        return;
      }
      if (!response.isSuccessful()) {
        failed(finished, "HTTP " + response.code(),
            response.code() < 500 ? "http_4xx" : "http_5xx", response);
        return;
      }
      byte[] body = readBody(response.body());
      if (body == null) {
        failed(finished, "body larger than " + maxBodyBytes + " bytes", "body_too_large", null);
        return;
      }

      Message message = new Message(url.toString(), body, response.header("Content-Type"));
      if (isCurrent(finished)) {
        topic.accept(message);
        succeeded(finished, response, true);
      }
    } catch (IOException e) {
      failed(finished, e.toString(), kind(e), null);
    } catch (RuntimeException e) {
      log.warn("Polling {} failed unexpectedly; backing off", url, e);
      failed(finished, e.toString(), "internal", null);
    }
  }

  @Override
  public void onFailure(Call failed, IOException e) {
    counters.requestsInFlight.decrementAndGet();
    failed(failed, e.toString(), kind(e), null);
  }

  /** The kind of a failed poll's exception, as {@link FanoutStats#upstreamErrors} counts it. */
  private static String kind(IOException e) {
    if (e instanceof java.io.InterruptedIOException) {
      return "timeout";
    }
    if (e instanceof java.net.UnknownHostException) {
      return String.valueOf(e.getMessage()).contains("URL policy")
          ? "refused_by_policy" : "unresolvable";
    }
    if (e instanceof java.net.ConnectException) {
      return "connect";
    }
    if (e instanceof javax.net.ssl.SSLException) {
      return "tls";
    }
    return "io";
  }

  /** Reads the whole body, or returns null if it is larger than the cap. */
  private byte[] readBody(ResponseBody body) throws IOException {
    if (body.contentLength() > maxBodyBytes) {
      return null;
    }
    BufferedSource source = body.source();
    long oneMore = maxBodyBytes == Long.MAX_VALUE ? Long.MAX_VALUE : maxBodyBytes + 1;
    if (source.request(oneMore)) {
      return null;
    }
    return source.getBuffer().readByteArray();
  }

  /**
   * Ends a poll that worked: {@code delivered} if its body went to the topic, or a 304. Either way
   * the failure count is reset, and the next request waits while the response is fresh.
   */
  private void succeeded(Call finished, Response response, boolean delivered) {
    long freshForMillis = PacingHeaders.freshForMillis(
        response.headers(), response.receivedResponseAtMillis(), System.currentTimeMillis());
    int previousFailures;
    long delay;
    synchronized (this) {
      if (stopped || call != finished) {
        return;
      }
      previousFailures = failures;
      failures = 0;
      keepValidators(response, delivered);
      delay = timing.delayAfterSuccessNanos(
          lastStartNanos, System.nanoTime(), headerWaitNanos(freshForMillis));
    }

    if (previousFailures > 0) {
      log.info("Upstream {} recovered after {} failed polls", url, previousFailures);
    }
    if (log.isDebugEnabled()) {
      log.debug("Upstream {} answered {}{}, next poll in {} ms", url, response.code(),
          freshForMillis > 0 ? ", fresh for " + freshForMillis + " ms" : "",
          TimeUnit.NANOSECONDS.toMillis(delay));
    }
    schedule(finished, delay);
  }

  /**
   * Remembers the validators to send next time. A delivered response replaces both, so one without
   * validators clears them; a 304 keeps them, updating any it repeats.
   */
  private void keepValidators(Response response, boolean delivered) {
    String newEtag = response.header("ETag");
    String newLastModified = response.header("Last-Modified");
    if (delivered || newEtag != null) {
      etag = newEtag;
    }
    if (delivered || newLastModified != null) {
      lastModified = newLastModified;
    }
  }

  /** Ends a poll that failed; {@code response} is the refusal, if the upstream answered. */
  private void failed(Call finished, String reason, String kind, Response response) {
    long retryAfterMillis = response == null ? 0 : PacingHeaders.retryAfterMillis(
        response.headers(), response.receivedResponseAtMillis(), System.currentTimeMillis());
    String why =
        retryAfterMillis > 0 ? reason + ", Retry-After " + retryAfterMillis + " ms" : reason;

    int failuresNow;
    long delay;
    synchronized (this) {
      if (stopped || call != finished) {
        return;
      }
      counters.upstreamError(kind);
      failuresNow = ++failures;
      delay = timing.delayAfterFailureNanos(
          failuresNow, lastStartNanos, System.nanoTime(), headerWaitNanos(retryAfterMillis));
    }

    if (failuresNow == 1) {
      log.warn("Upstream {} failing ({}), backing off", url, why);
    } else {
      log.debug("Upstream {} failed {} times in a row ({}), next try in {} ms",
          url, failuresNow, why, TimeUnit.NANOSECONDS.toMillis(delay));
    }
    schedule(finished, delay);
  }

  /**
   * A wait the upstream's headers asked for, read off the millisecond wall clock, in nanoseconds
   * and one millisecond longer: the clock's granularity can make the time since receipt look up to
   * a millisecond longer than it was, and the next request must not come early.
   */
  private static long headerWaitNanos(long millis) {
    return millis > 0 ? TimeUnit.MILLISECONDS.toNanos(millis + 1) : 0;
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
