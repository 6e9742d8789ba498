package io.github.lpfanout.examples;

import io.github.lpfanout.Fanout;
import io.github.lpfanout.servlet.FanoutServlet;
import java.io.IOException;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

/**
 * The proxy served by {@link FanoutServlet} in embedded Jetty 9.4: the servlet at {@code /*} of
 * the root context, the {@link DemoPage} at {@code /demo/}, and in demo mode {@link
 * DemoClockServlet} at {@code /demo/clock}.
 *
 * <p>Jetty's default compliance mode lets every request target the fanout accepts through, so the
 * connector needs no settings. Its idle timeout (30 s) is longer than the fanout's heartbeat
 * interval (15 s), so idle streams stay open. Jetty's threads are not daemons: a running server
 * keeps the JVM alive until {@link #close()}.
 */
final class JettyProxyServer implements ProxyServer {
  private final Server server;
  private final ServerConnector connector;
  private final ScheduledExecutorService demoTimer;

  private JettyProxyServer(
      Server server, ServerConnector connector, ScheduledExecutorService demoTimer) {
    this.server = server;
    this.connector = connector;
    this.demoTimer = demoTimer;
  }

  /**
   * Starts serving {@code fanout} on {@code host} and {@code port} (0 picks a free one).
   *
   * @throws IOException if the port cannot be bound or Jetty does not start
   */
  static JettyProxyServer start(String host, int port, Fanout fanout, boolean demo)
      throws IOException {
    return start(host, port, fanout, demo, new StatsEndpoint(fanout, null));
  }

  /** As {@link #start(String, int, Fanout, boolean)}, with {@code stats} at {@code /stats}. */
  static JettyProxyServer start(
      String host, int port, Fanout fanout, boolean demo, StatsEndpoint stats)
      throws IOException {
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(host);
    connector.setPort(port);
    server.addConnector(connector);

    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    ServletHolder fanoutHolder = new ServletHolder("fanout", new FanoutServlet(fanout));
    fanoutHolder.setAsyncSupported(true);
    context.addServlet(fanoutHolder, "/*");
    context.addServlet(new ServletHolder("demo-page", new DemoPage.Servlet()), DemoPage.PATH);
    context.addServlet(new ServletHolder("stats", stats.servlet()), StatsEndpoint.PATH);
    ScheduledExecutorService timer = null;
    if (demo) {
      timer = DemoClock.newTimer();
      ServletHolder clock = new ServletHolder("demo-clock", new DemoClockServlet(timer));
      clock.setAsyncSupported(true);
      context.addServlet(clock, "/demo/clock");
    }
    server.setHandler(context);

    JettyProxyServer started = new JettyProxyServer(server, connector, timer);
    try {
      server.start();
    } catch (Exception e) {
      started.close();
      throw e instanceof IOException io ? io : new IOException("Jetty did not start", e);
    }
    return started;
  }

  @Override
  public String baseUrl() {
    return ProxyServer.baseUrl(connector.getHost(), connector.getLocalPort());
  }

  @Override
  public void close() {
    if (demoTimer != null) {
      DemoClock.stop(demoTimer);
    }
    try {
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("Jetty did not stop", e);
    }
  }
}
