package io.github.lpfanout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one poller per canonical upstream URL for as long as the URL has subscribers.
 *
 * <p>A poller sends one GET at a time for its URL, however many clients want it, and hands each
 * 2xx response body to every current subscriber as one {@link Message}. It polls again as soon as
 * the response is delivered, but never sooner than {@link Builder#minPollGap} after the previous
 * request started. A failure (non-2xx, I/O error, timeout, body over {@link Builder#maxBodyBytes})
 * delivers nothing and is retried with exponential backoff and jitter, reset by a success. When
 * the last subscriber of a URL leaves, its in-flight call is cancelled and nothing more is sent.
 *
 * <p>A poller is a polite HTTP client. It sends the {@code ETag} and {@code Last-Modified} of the
 * last delivered response back as {@code If-None-Match} and {@code If-Modified-Since}; a 304
 * answer delivers nothing and counts as a success. After a 2xx or 304 that says it stays fresh
 * ({@code Cache-Control: s-maxage} or {@code max-age}, or {@code Expires}, aged by {@code Age} and
 * {@code Date}), the next request waits until it goes stale, for at most {@link
 * Builder#maxFreshnessWait}. A failing answer's {@code Retry-After} (seconds or an HTTP date) is
 * waited out when it is longer than the backoff, for at most {@link Builder#maxRetryAfter}.
 *
 * <p>Thread-safe. Subscribers are called on the HTTP client's dispatcher threads.
 */
public final class PollerRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PollerRegistry.class);

  private final OkHttpClient client;
  private final boolean ownsClient;
  private final ScheduledExecutorService scheduler;
  private final boolean ownsScheduler;
  private final PollTiming timing;
  private final long maxBodyBytes;
  private final UrlPolicy urlPolicy;
  private final int maxPolledUrls;
  private final ConcurrentHashMap<String, Topic> topics = new ConcurrentHashMap<>();
  private final AtomicInteger topicCount = new AtomicInteger();
  private final AtomicBoolean closed = new AtomicBoolean();

  private PollerRegistry(Builder builder) {
    this.ownsClient = builder.client == null;
    this.urlPolicy = builder.urlPolicy;
    OkHttpClient base = ownsClient
        ? HttpClients.create("fanout-poll", builder.readTimeout, builder.effectiveCallTimeout())
        : builder.client;
    this.client = base.newBuilder().dns(urlPolicy.guard(base.dns())).build();
    this.maxPolledUrls = builder.maxPolledUrls;
    this.ownsScheduler = builder.scheduler == null;
    this.scheduler = ownsScheduler ? newScheduler() : builder.scheduler;
    this.timing = new PollTiming(builder.minPollGap, builder.initialBackoff, builder.maxBackoff,
        builder.maxFreshnessWait, builder.maxRetryAfter);
    this.maxBodyBytes = builder.maxBodyBytes;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  private static ScheduledExecutorService newScheduler() {
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(1, HttpClients.daemonThreads("fanout-scheduler"));
    executor.setRemoveOnCancelPolicy(true);
    return executor;
  }

  /**
   * Subscribes {@code subscriber} to every URL in {@code urls}, starting a poller for each URL that
   * has none. URLs with the same canonical form count once. Either every URL is subscribed or, if
   * this throws, none is.
   *
   * @throws IllegalArgumentException if the URL policy refuses one of the URLs
   * @throws RegistryFullException if a new poller would exceed {@link Builder#maxPolledUrls}
   * @throws IllegalStateException if the registry is closed
   */
  public Subscription subscribe(Collection<UpstreamUrl> urls, Subscriber subscriber) {
    Objects.requireNonNull(subscriber, "subscriber");
    if (closed.get()) {
      throw new IllegalStateException("registry is closed");
    }

    Map<String, UpstreamUrl> distinct = new LinkedHashMap<>();
    for (UpstreamUrl url : urls) {
      String refusal = urlPolicy.refusal(url);
      if (refusal != null) {
        throw new IllegalArgumentException(url.spelling() + " may not be polled: " + refusal);
      }
      distinct.putIfAbsent(url.canonical(), url);
    }

    RegistrySubscription subscription = new RegistrySubscription(this);
    for (UpstreamUrl url : distinct.values()) {
      Topic.Entry entry = new Topic.Entry(url, subscriber);
      if (!join(entry)) {
        subscription.close();
        throw new RegistryFullException(
            "no more than " + maxPolledUrls + " upstream URLs are polled at once");
      }
      subscription.add(entry);
    }
    return subscription;
  }

  /** Adds {@code entry} to its topic, creating it unless that would exceed the limit. */
  private boolean join(Topic.Entry entry) {
    Topic[] created = new Topic[1];
    boolean[] full = new boolean[1];
    topics.compute(entry.url().canonical(), (key, topic) -> {
      if (topic == null) {
        if (!reserveTopic()) {
          full[0] = true;
          return null;
        }
        topic = new Topic(key,
            deliveries -> new Poller(entry.url().url(), client, scheduler, timing, maxBodyBytes,
                deliveries));
        created[0] = topic;
      }
      topic.add(entry);
      return topic;
    });

    if (created[0] != null) {
      created[0].start();
    }
    return !full[0];
  }

  private boolean reserveTopic() {
    for (int count = topicCount.get(); count < maxPolledUrls; count = topicCount.get()) {
      if (topicCount.compareAndSet(count, count + 1)) {
        return true;
      }
    }
    return false;
  }

  void leave(Topic.Entry entry) {
    Topic[] emptied = new Topic[1];
    topics.computeIfPresent(entry.url().canonical(), (key, topic) -> {
      topic.remove(entry);
      if (topic.isEmpty()) {
        emptied[0] = topic;
        topicCount.decrementAndGet();
        return null;
      }
      return topic;
    });

    if (emptied[0] != null) {
      emptied[0].stop();
    }
  }

  /** The policy every subscribed URL and every connection is checked against. */
  public UrlPolicy urlPolicy() {
    return urlPolicy;
  }

  /** How many URLs are being polled now. */
  public int pollerCount() {
    return topics.size();
  }

  /** How many subscriptions to {@code url}'s canonical form exist now. */
  public int subscriberCount(UpstreamUrl url) {
    Topic topic = topics.get(url.canonical());
    return topic == null ? 0 : topic.size();
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed.get();
  }

  /**
   * Stops every poller and cancels every call. Subscriptions stay open but receive nothing more.
   * Threads and clients the registry made itself are shut down; ones passed to the builder are not.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }

    List<Topic> all = new ArrayList<>(topics.values());
    topics.clear();
    for (Topic topic : all) {
      topic.stop();
    }
    if (ownsScheduler) {
      HttpClients.stop(scheduler);
    }
    if (ownsClient) {
      HttpClients.shutdown(client);
    }
    log.debug("Poller registry closed, {} pollers stopped", all.size());
  }

  /** Configures a {@link PollerRegistry}. Not thread-safe. */
  public static final class Builder {
    private OkHttpClient client;
    private ScheduledExecutorService scheduler;
    private Duration readTimeout = Duration.ofMinutes(2);
    private Duration minPollGap = Duration.ofMillis(100);
    private Duration initialBackoff = Duration.ofMillis(500);
    private Duration maxBackoff = Duration.ofSeconds(30);
    private long maxBodyBytes = 8L * 1024 * 1024;
    private Duration callTimeout;
    private Duration maxFreshnessWait = Duration.ofMinutes(5);
    private Duration maxRetryAfter = Duration.ofMinutes(5);
    private UrlPolicy urlPolicy = UrlPolicy.standard();
    private int maxPolledUrls = 10_000;

    private Builder() {}

    /**
     * Which upstream URLs may be polled at all. Default {@link UrlPolicy#standard()}: any http or
     * https URL except link-local and cloud metadata addresses.
     */
    public Builder urlPolicy(UrlPolicy urlPolicy) {
      this.urlPolicy = Objects.requireNonNull(urlPolicy, "urlPolicy");
      return this;
    }

    /** The most distinct upstream URLs polled at once. Default 10,000. */
    public Builder maxPolledUrls(int maxPolledUrls) {
      if (maxPolledUrls < 1) {
        throw new IllegalArgumentException("maxPolledUrls must be at least 1: " + maxPolledUrls);
      }
      this.maxPolledUrls = maxPolledUrls;
      return this;
    }

    /**
     * The client that polls. By default the registry makes one whose dispatcher runs every poll at
     * once, whose timeouts are {@link #readTimeout} and {@link #callTimeout}, and which refuses
     * names under {@code .invalid} without a lookup.
     *
     * <p>Note: a client passed here is used as it is. OkHttp's default dispatcher runs at most 5
     * calls per host, so a sixth URL on one host would wait for one of the first five to answer;
     * raise {@code Dispatcher.setMaxRequestsPerHost} and {@code setMaxRequests} to the number of
     * URLs you expect.
     */
    public Builder client(OkHttpClient client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /** Runs poll and backoff timers. By default one daemon thread of the registry's own. */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * How long an upstream may hold a request without sending a byte, for the registry's own
     * client. Long polls need it long. Default 2 minutes.
     */
    public Builder readTimeout(Duration readTimeout) {
      this.readTimeout = positive("readTimeout", readTimeout);
      return this;
    }

    /** The least time from the start of one request for a URL to the next. Default 100 ms. */
    public Builder minPollGap(Duration minPollGap) {
      if (minPollGap.isNegative()) {
        throw new IllegalArgumentException("minPollGap must not be negative: " + minPollGap);
      }
      this.minPollGap = minPollGap;
      return this;
    }

    /** The wait after the first failure, doubled after each further one. Default 500 ms. */
    public Builder initialBackoff(Duration initialBackoff) {
      this.initialBackoff = positive("initialBackoff", initialBackoff);
      return this;
    }

    /** The longest wait between failing requests. Default 30 s. */
    public Builder maxBackoff(Duration maxBackoff) {
      this.maxBackoff = positive("maxBackoff", maxBackoff);
      return this;
    }

    /** The largest body delivered; a larger one counts as a failure. Default 8 MiB. */
    public Builder maxBodyBytes(long maxBodyBytes) {
      if (maxBodyBytes < 0) {
        throw new IllegalArgumentException("maxBodyBytes must not be negative: " + maxBodyBytes);
      }
      this.maxBodyBytes = maxBodyBytes;
      return this;
    }

    /**
     * The longest one whole poll may take on the registry's own client, from the connect to the
     * last byte of the body, so that an upstream trickling its body byte by byte, each within the
     * read timeout, is cut off. It bounds the wait for news too, so it must be longer than the
     * longest hold of a long-poll upstream. Default {@link #readTimeout} plus 1 minute (3 minutes
     * with the default read timeout).
     */
    public Builder callTimeout(Duration callTimeout) {
      this.callTimeout = positive("callTimeout", callTimeout);
      return this;
    }

    /**
     * The longest a response that says it stays fresh ({@code Cache-Control: max-age} or {@code
     * s-maxage}, or {@code Expires}) may hold back the next request for its URL, so that a very
     * long max-age does not silence a URL for days. {@link Duration#ZERO} ignores freshness and
     * polls again after {@link #minPollGap}. Default 5 minutes.
     */
    public Builder maxFreshnessWait(Duration maxFreshnessWait) {
      this.maxFreshnessWait = notNegative("maxFreshnessWait", maxFreshnessWait);
      return this;
    }

    /**
     * The longest a failing answer's {@code Retry-After} may hold back the retry of its URL; a
     * longer one is cut to this. {@link Duration#ZERO} ignores {@code Retry-After} and retries
     * after the backoff alone. Default 5 minutes.
     */
    public Builder maxRetryAfter(Duration maxRetryAfter) {
      this.maxRetryAfter = notNegative("maxRetryAfter", maxRetryAfter);
      return this;
    }

    private Duration effectiveCallTimeout() {
      return callTimeout != null ? callTimeout : readTimeout.plusMinutes(1);
    }

    public PollerRegistry build() {
      if (maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalStateException(
            "maxBackoff " + maxBackoff + " is shorter than initialBackoff " + initialBackoff);
      }
      return new PollerRegistry(this);
    }

    private static Duration notNegative(String name, Duration value) {
      if (value.isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative: " + value);
      }
      return value;
    }

    private static Duration positive(String name, Duration value) {
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + " must be positive: " + value);
      }
      return value;
    }
  }

  private static final class RegistrySubscription implements Subscription {
    private final PollerRegistry registry;
    private final List<Topic.Entry> entries = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    RegistrySubscription(PollerRegistry registry) {
      this.registry = registry;
    }

    /** Adds an entry while the subscription is being built, before it is handed out. */
    void add(Topic.Entry entry) {
      entries.add(entry);
    }

    @Override
    public List<UpstreamUrl> urls() {
      return entries.stream().map(Topic.Entry::url).toList();
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        for (Topic.Entry entry : entries) {
          entry.cancel();
          registry.leave(entry);
        }
      }
    }
  }
}
