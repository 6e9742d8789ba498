package io.github.lpfanout;

import io.github.lpfanout.internal.DaemonThreads;
import java.net.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.HttpUrl;
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
 * <p>Every message gets a {@link MessageId}: this registry's {@link #run()} and a sequence that
 * grows with each message, across all URLs. Each URL keeps its recent messages (see {@link
 * History}), so that a subscriber can start from the latest one, or from where a client that
 * reconnects left off ({@link StartFrom}). A message can also be pushed with {@link #publish}
 * instead of polled, and URLs under a {@linkplain Builder#pushFedPrefix push-fed prefix} are never
 * polled at all.
 *
 * <p>Thread-safe. Subscribers are called on the registry's delivery thread, a daemon thread named
 * {@code fanout-delivery} that it makes when there is something to deliver: one call at a time,
 * with the messages of all URLs in the order of their ids. Neither a poll, nor {@link #publish},
 * nor {@link #subscribe} waits for subscribers. See {@link Subscriber}.
 */
public final class PollerRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PollerRegistry.class);

  private final OkHttpClient client;
  private final boolean ownsClient;
  private final ScheduledExecutorService scheduler;
  private final boolean ownsScheduler;
  private final long maxBodyBytes;
  private final Poller.Settings pollerSettings;
  private final Counters counters = new Counters();
  private final UrlPolicy urlPolicy;
  private final int maxPolledUrls;
  private final ConcurrentHashMap<String, Topic> topics = new ConcurrentHashMap<>();
  private final AtomicInteger topicCount = new AtomicInteger();
  private final ExecutorService delivery;
  private final Journal journal;
  private final List<String> pushFedPrefixes;
  private final AtomicBoolean closed = new AtomicBoolean();

  private PollerRegistry(Builder builder) {
    this.ownsClient = builder.client == null;
    this.urlPolicy = builder.urlPolicy;
    // The registry's own client connects directly, whatever proxy the JVM is configured with: a
    // proxy resolves the names itself, out of reach of the URL policy's check of the addresses.
    OkHttpClient base = ownsClient
        ? HttpClients.create("fanout-poll", builder.readTimeout, builder.effectiveCallTimeout(),
            builder.maxPolledUrls)
            .newBuilder().proxy(Proxy.NO_PROXY).build()
        : builder.client;
    this.client = base.newBuilder().dns(urlPolicy.guard(base.dns())).build();
    this.maxPolledUrls = builder.maxPolledUrls;
    this.ownsScheduler = builder.scheduler == null;
    this.scheduler = ownsScheduler ? newScheduler() : builder.scheduler;
    PollTiming timing = new PollTiming(builder.minPollGap, builder.initialBackoff,
        builder.maxBackoff, builder.maxFreshnessWait, builder.maxRetryAfter);
    this.maxBodyBytes = builder.maxBodyBytes;
    this.delivery = newDeliveryExecutor();
    this.journal = new Journal(builder.history, topics::get, delivery);
    this.pollerSettings = new Poller.Settings(
        client, scheduler, timing, maxBodyBytes, counters, via(journal.run()));
    this.pushFedPrefixes = List.copyOf(builder.pushFedPrefixes);
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** At most one daemon thread, made when there is something to deliver and let go when idle. */
  private static ExecutorService newDeliveryExecutor() {
    return new ThreadPoolExecutor(0, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        DaemonThreads.named("fanout-delivery"));
  }

  private static ScheduledExecutorService newScheduler() {
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(1, DaemonThreads.named("fanout-scheduler"));
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
    return subscribe(urls, subscriber, StartFrom.live());
  }

  /**
   * Subscribes like {@link #subscribe(Collection, Subscriber)}, and first sends {@code subscriber}
   * what {@code start} asks for from each URL's history: nothing, the latest message, or what came
   * after a message a client saw. They are sent soon after, on the delivery thread, before any
   * message that arrives after this call.
   *
   * @throws IllegalArgumentException if the URL policy refuses one of the URLs
   * @throws RegistryFullException if a new poller would exceed {@link Builder#maxPolledUrls}
   * @throws IllegalStateException if the registry is closed
   */
  public Subscription subscribe(
      Collection<UpstreamUrl> urls, Subscriber subscriber, StartFrom start) {
    Objects.requireNonNull(subscriber, "subscriber");
    Objects.requireNonNull(start, "start");
    long since = journal.lastSequence();
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
    journal.join(subscription.entries, start, since);
    return subscription;
  }

  /** Adds {@code entry} to its topic, creating it unless that would exceed the limit. */
  private boolean join(Topic.Entry entry) {
    Topic[] created = new Topic[1];
    boolean[] full = new boolean[1];
    topics.compute(entry.url().canonical(), (key, topic) -> {
      if (topic == null) {
        boolean pushFed = isPushFed(key);
        if (!pushFed && !reserveTopic()) {
          full[0] = true;
          return null;
        }
        topic = new Topic(key, journal, pushFed ? null
            : deliveries -> new Poller(entry.url().url(), pollerSettings, deliveries));
        journal.activate(key);
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
        if (topic.isPolled()) {
          topicCount.decrementAndGet();
        }
        journal.deactivate(key);
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

  /** How many URLs are being polled now. Push-fed URLs with subscribers are not counted. */
  public int pollerCount() {
    return (int) topics.values().stream().filter(Topic::isPolled).count();
  }

  /**
   * Delivers {@code body} to the subscribers of {@code url} exactly as if a poll of it had
   * answered with it: it gets the next id, is kept in the URL's history, and reaches every
   * subscriber of the URL's canonical form, each under its own spelling. A URL without
   * subscribers keeps it for those who join later, within the {@link History} bounds for idle
   * URLs. It is delivered on the delivery thread, after every message published or polled
   * before it.
   *
   * <p>Any URL may be published to, polled or push-fed; the URL policy is not consulted, since
   * nothing is fetched. The body array belongs to the registry from here on.
   *
   * @param contentType the body's {@code Content-Type}, or null; its charset decodes the body for
   *     SSE
   * @return the id the message was given
   * @throws IllegalArgumentException if the body is larger than {@link Builder#maxBodyBytes}
   * @throws IllegalStateException if the registry is closed
   */
  public MessageId publish(UpstreamUrl url, byte[] body, String contentType) {
    Objects.requireNonNull(url, "url");
    Objects.requireNonNull(body, "body");
    if (body.length > maxBodyBytes) {
      throw new IllegalArgumentException(
          "body of " + body.length + " bytes is larger than maxBodyBytes " + maxBodyBytes);
    }

    Message published = closed.get() ? null
        : journal.append(new Message(url.canonical(), body, contentType));
    if (published == null) {
      throw new IllegalStateException("registry is closed");
    }
    return published.id();
  }

  /** This registry's run, the first part of every {@link MessageId} it gives. */
  public String run() {
    return journal.run();
  }

  /**
   * The {@code Via} header value this registry's polls carry, unique to it. A request that carries
   * it came from this registry, polling through a fanout: serving it would make the registry poll
   * itself.
   */
  public String via() {
    return pollerSettings.via();
  }

  private static String via(String run) {
    return "1.1 fanout-" + run;
  }

  /** How many subscriptions there are now, one per subscriber and URL. */
  public int subscriptionCount() {
    int count = 0;
    for (Topic topic : topics.values()) {
      count += topic.size();
    }
    return count;
  }

  Counters counters() {
    return counters;
  }

  /** Whether {@code url} is push-fed: under a prefix given to {@link Builder#pushFedPrefix}. */
  public boolean isPushFed(UpstreamUrl url) {
    return isPushFed(url.canonical());
  }

  private boolean isPushFed(String canonical) {
    for (String prefix : pushFedPrefixes) {
      if (canonical.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  /** How many URLs keep messages now, with subscribers or without; for tests. */
  int historyCount() {
    return journal.historyCount();
  }

  /**
   * How many messages {@code url}'s topic keeps for live subscribers that have not taken them,
   * as of its last delivery; for tests.
   */
  int keptForLiveSubscribers(UpstreamUrl url) {
    Topic topic = topics.get(url.canonical());
    return topic == null ? 0 : topic.kept();
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

    journal.close();
    HttpClients.stop(delivery);
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
    private History history = History.standard();
    private final List<String> pushFedPrefixes = new ArrayList<>();

    private Builder() {}

    /** How many recent messages each URL keeps. Default {@link History#standard()}. */
    public Builder history(History history) {
      this.history = Objects.requireNonNull(history, "history");
      return this;
    }

    /**
     * Makes the URLs that start with {@code prefix} push-fed: they are never polled, and their
     * messages come only from {@link PollerRegistry#publish}. Subscribing to one holds no poller
     * and does not count toward {@link #maxPolledUrls}. Compared in canonical form, as {@link
     * UrlPolicy.Builder#allowPrefix} compares; end it with {@code /} to take one path and what is
     * below it. May be called for several prefixes.
     *
     * @throws IllegalArgumentException if {@code prefix} is not an http or https URL
     */
    public Builder pushFedPrefix(String prefix) {
      HttpUrl parsed = HttpUrl.parse(prefix);
      if (parsed == null) {
        throw new IllegalArgumentException("pushFedPrefix takes an http or https URL: " + prefix);
      }
      pushFedPrefixes.add(parsed.newBuilder().fragment(null).build().toString());
      return this;
    }

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
     * once, whose timeouts are {@link #readTimeout} and {@link #callTimeout}, which refuses names
     * under {@code .invalid} without a lookup, and which connects directly, never through a proxy
     * the JVM is configured with.
     *
     * <p>Note: if the client passed here goes through an HTTP proxy (its own {@code proxy} or
     * {@code proxySelector}, or the JVM's), the proxy resolves the upstream's name and connects,
     * so the URL policy checks the URL and any address literal in it but not the addresses a name
     * resolves to: make the proxy refuse link-local and metadata addresses itself.
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
