package io.github.lpfanout.bench;

import com.sun.net.httpserver.HttpServer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.internal.DaemonThreads;
import io.github.lpfanout.jdkhttp.FanoutHttpHandler;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The JDK's {@code HttpServer} with {@link FanoutHttpHandler} at {@code /}, as the runnable proxy
 * serves it: with {@code TCP_NODELAY}, and a cached pool of request threads as the server's
 * executor, since the JDK server reads each request's line and headers on the thread that runs the
 * handler, and without one its single dispatcher thread would also parse every request.
 */
final class JdkHttpTransport implements Transport {
  private static final String NODELAY = "sun.net.httpserver.nodelay";

  private final String writers;
  private HttpServer server;
  private FanoutHttpHandler handler;
  private ExecutorService executor;
  private ExecutorService requests;

  /**
   * @param writers {@code default} for the handler's own writer executor, {@code platform} for a
   *     cached pool of platform threads, {@code fixed} for one platform thread per core (which a
   *     stalled client can hold up), {@code virtual} for a virtual thread per task (Java 21+)
   */
  JdkHttpTransport(String writers) {
    this.writers = writers;
  }

  @Override
  public int start(Fanout fanout) throws Exception {
    switch (writers) {
      case "default" -> handler = new FanoutHttpHandler(fanout);
      case "platform" -> {
        executor = Executors.newCachedThreadPool();
        handler = new FanoutHttpHandler(fanout, executor);
      }
      case "fixed" -> {
        executor = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
        handler = new FanoutHttpHandler(fanout, executor);
      }
      case "virtual" -> {
        Method factory = Executors.class.getMethod("newVirtualThreadPerTaskExecutor");
        executor = (ExecutorService) factory.invoke(null);
        handler = new FanoutHttpHandler(fanout, executor);
      }
      default -> throw new IllegalArgumentException("unknown writers " + writers);
    }
    // As the runnable proxy does: without it, the JDK server leaves Nagle's algorithm on.
    if (System.getProperty(NODELAY) == null) {
      System.setProperty(NODELAY, "true");
    }
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
    requests = Executors.newCachedThreadPool(DaemonThreads.named("bench-jdkhttp-request"));
    server.setExecutor(requests);
    server.createContext("/", handler);
    server.start();
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    handler.close();
    server.stop(0);
    requests.shutdownNow();
    if (executor != null) {
      executor.shutdownNow();
    }
  }
}
