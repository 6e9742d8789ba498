package io.github.lpfanout.examples;

import com.sun.net.httpserver.HttpServer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.jdkhttp.FanoutHttpHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The proxy served by {@link FanoutHttpHandler} on the JDK's HttpServer: the handler at {@code /},
 * the {@link DemoPage} at {@code /demo/}, and in demo mode {@link DemoClock} at {@code
 * /demo/clock}.
 *
 * <p>The server gets an executor of its own: the JDK server reads each request's line and headers
 * on the thread that will run the handler, so without one a client that sends its request slowly
 * would hold the dispatcher thread and stall every other client. A request that takes longer than
 * 30 seconds to arrive is cut off ({@code sun.net.httpserver.maxReqTime}, unless set otherwise).
 * Each admitted stream is written on a writer thread of the handler's own.
 */
final class JdkProxyServer implements ProxyServer {
  private static final String MAX_REQUEST_SECONDS = "sun.net.httpserver.maxReqTime";
  private static final String NO_DELAY = "sun.net.httpserver.nodelay";

  private final HttpServer server;
  private final ExecutorService requests;
  private final FanoutHttpHandler handler;
  private final ScheduledExecutorService demoTimer;

  private JdkProxyServer(HttpServer server, ExecutorService requests, FanoutHttpHandler handler,
      ScheduledExecutorService demoTimer) {
    this.server = server;
    this.requests = requests;
    this.handler = handler;
    this.demoTimer = demoTimer;
  }

  /**
   * Starts serving {@code fanout} on {@code host} and {@code port} (0 picks a free one).
   *
   * @throws IOException if the port cannot be bound
   */
  static JdkProxyServer start(String host, int port, Fanout fanout, boolean demo)
      throws IOException {
    return start(host, port, fanout, demo, new StatsEndpoint(fanout, null));
  }

  /** As {@link #start(String, int, Fanout, boolean)}, with {@code stats} at {@code /stats}. */
  static JdkProxyServer start(
      String host, int port, Fanout fanout, boolean demo, StatsEndpoint stats)
      throws IOException {
    if (System.getProperty(MAX_REQUEST_SECONDS) == null) {
      System.setProperty(MAX_REQUEST_SECONDS, "30");
    }
    // Frames are small writes that must leave at once, not wait for the previous one's ACK.
    if (System.getProperty(NO_DELAY) == null) {
      System.setProperty(NO_DELAY, "true");
    }
    HttpServer server = HttpServer.create(new InetSocketAddress(host, port), 0);
    ExecutorService requests = Executors.newCachedThreadPool(runnable -> {
      Thread thread = new Thread(runnable, "fanout-jdkhttp-request");
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(requests);
    FanoutHttpHandler handler = new FanoutHttpHandler(fanout);
    server.createContext("/", handler);
    server.createContext(DemoPage.PATH, DemoPage.handler());
    server.createContext(StatsEndpoint.PATH, stats.handler());
    ScheduledExecutorService timer = null;
    if (demo) {
      timer = DemoClock.newTimer();
      server.createContext("/demo/clock", new DemoClock(timer));
    }
    server.start();
    return new JdkProxyServer(server, requests, handler, timer);
  }

  @Override
  public String baseUrl() {
    InetSocketAddress address = server.getAddress();
    return ProxyServer.baseUrl(address.getAddress().getHostAddress(), address.getPort());
  }

  @Override
  public void close() {
    handler.close();
    server.stop(0);
    requests.shutdownNow();
    if (demoTimer != null) {
      DemoClock.stop(demoTimer);
    }
  }
}
