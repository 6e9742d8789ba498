package io.github.lpfanout.examples;

import com.sun.net.httpserver.HttpServer;
import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.jdkhttp.FanoutHttpHandler;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ready-made proxy: serves {@code /sse/...} and {@code /bin/...} from the JDK HttpServer, with
 * an auth server, without one, or in demo mode with a built-in upstream at {@code /demo/clock}.
 */
public final class FanoutProxy implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FanoutProxy.class);

  private final Fanout fanout;
  private final FanoutHttpHandler handler;
  private final HttpServer server;
  private final ScheduledExecutorService demoTimer;

  private FanoutProxy(
      Fanout fanout, FanoutHttpHandler handler, HttpServer server, ScheduledExecutorService timer) {
    this.fanout = fanout;
    this.handler = handler;
    this.server = server;
    this.demoTimer = timer;
  }

  public static void main(String[] args) {
    ProxyOptions options;
    try {
      options = ProxyOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("fanout-proxy: " + e.getMessage() + " (see --help)");
      System.exit(2);
      return;
    }
    if (options.help()) {
      System.out.println(ProxyOptions.USAGE);
      return;
    }

    FanoutProxy proxy;
    try {
      proxy = start(options);
    } catch (IOException e) {
      System.err.println("fanout-proxy: cannot listen on " + options.host() + ":" + options.port()
          + ": " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(proxy::close, "fanout-shutdown"));
    proxy.printBanner(System.out, options);
  }

  /** Starts a proxy as the options say. The caller closes it. */
  static FanoutProxy start(ProxyOptions options) throws IOException {
    Authorizer authorizer;
    if (options.authServer() != null) {
      authorizer = Authorizer.http(options.authServer());
    } else {
      if (options.noAuth()) {
        log.warn("Running without authorization: every client may subscribe to any URL");
      }
      authorizer = Authorizer.allowAll();
    }
    Fanout fanout = Fanout.newBuilder().authorizer(authorizer).build();

    // Frames are small writes that must leave at once, not wait for the previous one's ACK.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
    HttpServer server =
        HttpServer.create(new InetSocketAddress(options.host(), options.port()), 0);
    FanoutHttpHandler handler = new FanoutHttpHandler(fanout);
    server.createContext("/", handler);
    ScheduledExecutorService timer = null;
    if (options.demo()) {
      timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "fanout-demo-clock");
        thread.setDaemon(true);
        return thread;
      });
      server.createContext("/demo/clock", new DemoClock(timer));
    }
    server.start();
    return new FanoutProxy(fanout, handler, server, timer);
  }

  /** The base URL clients connect to. */
  String baseUrl() {
    InetSocketAddress address = server.getAddress();
    String host = address.getAddress().getHostAddress();
    if (host.contains(":")) {
      host = "[" + host + "]";
    }
    return "http://" + host + ":" + address.getPort();
  }

  private void printBanner(PrintStream out, ProxyOptions options) {
    String mode = options.demo() ? "demo mode" : options.noAuth() ? "no auth" : "auth server "
        + options.authServer();
    out.println("fanout proxy listening on " + baseUrl() + " (" + mode + ")");
    if (options.demo()) {
      out.println("Try:  curl -N " + baseUrl() + "/sse/" + baseUrl() + "/demo/clock");
    }
    out.flush();
  }

  /** Ends every stream cleanly, then stops the server and every thread the proxy started. */
  @Override
  public void close() {
    fanout.close();
    handler.close();
    server.stop(0);
    if (demoTimer != null) {
      demoTimer.shutdownNow();
    }
    log.info("fanout proxy stopped");
  }
}
