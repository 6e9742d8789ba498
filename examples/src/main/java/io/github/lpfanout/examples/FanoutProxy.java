package io.github.lpfanout.examples;

import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.PollerRegistry;
import io.github.lpfanout.UrlPolicy;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ready-made proxy: serves {@code /sse/...} and {@code /bin/...} with an auth server, without
 * one, or in demo mode with a built-in upstream at {@code /demo/clock}, from the JDK HttpServer or
 * from the servlet in embedded Jetty or Tomcat.
 */
public final class FanoutProxy implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FanoutProxy.class);

  private final Fanout fanout;
  private final ProxyServer server;

  private FanoutProxy(Fanout fanout, ProxyServer server) {
    this.fanout = fanout;
    this.server = server;
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
        log.warn("Running without authorization: every client may subscribe to any URL that {}",
            options.allow().isEmpty() ? "is on loopback" : "--allow lets through");
      }
      authorizer = Authorizer.allowAll();
    }
    PollerRegistry registry = PollerRegistry.newBuilder().urlPolicy(urlPolicy(options)).build();
    Fanout fanout = Fanout.newBuilder().registry(registry).authorizer(authorizer).build();

    try {
      return new FanoutProxy(fanout, startServer(options, fanout));
    } catch (IOException | RuntimeException e) {
      fanout.close();
      throw e;
    }
  }

  private static ProxyServer startServer(ProxyOptions options, Fanout fanout) throws IOException {
    String host = options.host();
    int port = options.port();
    boolean demo = options.demo();
    StatsEndpoint stats = new StatsEndpoint(fanout, options.statsToken());
    return switch (options.transport()) {
      case "jdk" -> JdkProxyServer.start(host, port, fanout, demo, stats);
      case "jetty" -> JettyProxyServer.start(host, port, fanout, demo, stats);
      case "tomcat" -> TomcatProxyServer.start(host, port, fanout, demo, stats);
      default -> throw new IllegalArgumentException("unknown transport " + options.transport());
    };
  }

  /**
   * The URLs the proxy may poll: the --allow prefixes if any, else anything but link-local and
   * metadata addresses behind an auth server, and loopback only in the open modes, where anyone
   * who reaches the proxy could make it fetch from the machine's network.
   */
  static UrlPolicy urlPolicy(ProxyOptions options) {
    return UrlPolicy.forDeployment(options.allow(), options.authServer() == null);
  }

  /** The base URL clients connect to. */
  String baseUrl() {
    return server.baseUrl();
  }

  private void printBanner(PrintStream out, ProxyOptions options) {
    String mode = options.demo() ? "demo mode" : options.noAuth() ? "no auth" : "auth server "
        + options.authServer();
    out.println("fanout proxy listening on " + baseUrl() + " (" + mode + ", "
        + options.transport() + ")");
    if (options.demo()) {
      String clock = baseUrl() + "/demo/clock";
      // The JDK server refuses the brackets of an IPv6 address in a path; the query form has none.
      String stream = clock.contains("[")
          ? "-g '" + baseUrl() + "/sse?url=" + URLEncoder.encode(clock, StandardCharsets.UTF_8)
              + "'"
          : baseUrl() + "/sse/" + clock;
      out.println("Try:  curl -N " + stream);
      out.println("Or open " + baseUrl() + DemoPage.PATH + " in a browser");
    }
    out.flush();
  }

  /** Ends every stream cleanly, then stops the server and every thread the proxy started. */
  @Override
  public void close() {
    fanout.close();
    server.close();
    log.info("fanout proxy stopped");
  }
}
