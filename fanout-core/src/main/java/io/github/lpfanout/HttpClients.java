package io.github.lpfanout;

import io.github.lpfanout.internal.DaemonThreads;
import io.github.lpfanout.internal.VirtualThreads;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.Dns;
import okhttp3.OkHttpClient;

/** Creates and disposes of the OkHttp clients the library makes when the caller passes none. */
final class HttpClients {

  private HttpClients() {}

  /**
   * A client whose dispatcher runs every call at once, on daemon threads named {@code
   * threadPrefix-N}, so that long polls to one host never queue behind each other and an idle
   * library never keeps the JVM alive. It has no call timeout, and refuses names under {@code
   * .invalid} without a lookup.
   *
   * <p>A call holds its thread while it waits for the answer, which for a long poll is most of
   * the time. On Java 21 and later the threads are virtual, so a thousand URLs polled at once cost
   * no platform threads; before that each call in flight holds a platform thread.
   *
   * @param maxInFlight how many calls the caller may have in flight at once; the client keeps up to
   *     that many idle connections, for five minutes
   */
  static OkHttpClient create(String threadPrefix, Duration readTimeout, int maxInFlight) {
    return create(threadPrefix, readTimeout, Duration.ZERO, maxInFlight);
  }

  /**
   * Like {@link #create(String, Duration, int)}, with a bound on each whole call, from the connect
   * to the last byte of the body, so that an upstream that trickles its body cannot hold a call for
   * ever by keeping each read under the read timeout. {@link Duration#ZERO} means no bound.
   */
  static OkHttpClient create(
      String threadPrefix, Duration readTimeout, Duration callTimeout, int maxInFlight) {
    ExecutorService executor = virtualThreadPerTask(threadPrefix);
    if (executor == null) {
      executor = new ThreadPoolExecutor(
          0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
          DaemonThreads.named(threadPrefix));
    }
    Dispatcher dispatcher = new Dispatcher(executor);
    dispatcher.setMaxRequests(Integer.MAX_VALUE);
    dispatcher.setMaxRequestsPerHost(Integer.MAX_VALUE);
    return new OkHttpClient.Builder()
        .dispatcher(dispatcher)
        .readTimeout(readTimeout)
        .callTimeout(callTimeout)
        .dns(new ReservedNameDns(Dns.SYSTEM))
        .connectTimeout(Duration.ofSeconds(10))
        // A pooled connection that a keep-alive server closed is retried on a new one.
        .retryOnConnectionFailure(true)
        .followRedirects(false)
        // OkHttp keeps 5 idle connections by default and closes the rest as each call ends, so
        // many calls at once (a burst of admissions, a thousand URLs each between two polls) would
        // open a new connection for almost every call.
        .connectionPool(new ConnectionPool(maxInFlight, 5, TimeUnit.MINUTES))
        .build();
  }

  /**
   * An executor that starts a virtual thread named {@code prefix-N} per task, with no context
   * class loader, or null before Java 21.
   */
  private static ExecutorService virtualThreadPerTask(String prefix) {
    ThreadFactory virtual = VirtualThreads.factory(prefix);
    if (virtual == null) {
      return null;
    }
    return VirtualThreads.perTaskExecutor(task -> {
      Thread thread = virtual.newThread(task);
      thread.setContextClassLoader(null);
      return thread;
    });
  }

  /**
   * Cancels every call of a client made by {@link #create} and stops its threads, waiting a moment
   * for them to end so that a web container stopping the application finds none left.
   */
  static void shutdown(OkHttpClient client) {
    client.dispatcher().cancelAll();
    client.connectionPool().evictAll();
    stop(client.dispatcher().executorService());
  }

  /** Interrupts an executor's threads and waits up to a second for them to end. */
  static void stop(ExecutorService executor) {
    executor.shutdownNow();
    try {
      executor.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
