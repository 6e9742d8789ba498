package io.github.lpfanout.examples;

import io.github.lpfanout.Fanout;
import io.github.lpfanout.servlet.FanoutServlet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/**
 * The proxy served by {@link FanoutServlet} in embedded Tomcat 9: the servlet at {@code /*} of
 * the root context, the {@link DemoPage} at {@code /demo/}, and in demo mode {@link
 * DemoClockServlet} at {@code /demo/clock}.
 *
 * <p>The connector is set up to pass the request targets that the fanout accepts and Tomcat
 * refuses by default: {@code encodedSolidusHandling} and {@code encodedReverseSolidusHandling}
 * {@code passthrough} for {@code %2F} and {@code %5C} (a URL encoded whole), and {@code
 * relaxedPathChars} and {@code relaxedQueryChars} for characters such as {@code [ ] | { }} that
 * upstream URLs carry unencoded. Tomcat's own INFO lines are turned down to warnings.
 *
 * <p>Tomcat's threads are daemons, so a non-daemon thread waits until {@link #close()} to keep
 * the JVM alive, as {@code Server.await()} does for a standalone Tomcat.
 */
final class TomcatProxyServer implements ProxyServer {
  private static final String RELAXED_CHARS = "\"<>[\\]^`{|}";
  /** Held so that the level set on them stays. */
  private static final Logger[] QUIETED = {
      Logger.getLogger("org.apache.catalina"), Logger.getLogger("org.apache.coyote"),
      Logger.getLogger("org.apache.tomcat")};

  private final Tomcat tomcat;
  private final Connector connector;
  private final String host;
  private final Path baseDir;
  private final ScheduledExecutorService demoTimer;
  private final CountDownLatch stopped = new CountDownLatch(1);

  private TomcatProxyServer(Tomcat tomcat, Connector connector, String host, Path baseDir,
      ScheduledExecutorService demoTimer) {
    this.tomcat = tomcat;
    this.connector = connector;
    this.host = host;
    this.baseDir = baseDir;
    this.demoTimer = demoTimer;
  }

  /**
   * Starts serving {@code fanout} on {@code host} and {@code port} (0 picks a free one).
   *
   * @throws IOException if the port cannot be bound or Tomcat does not start
   */
  static TomcatProxyServer start(String host, int port, Fanout fanout, boolean demo)
      throws IOException {
    return start(host, port, fanout, demo, new StatsEndpoint(fanout, null));
  }

  /** As {@link #start(String, int, Fanout, boolean)}, with {@code stats} at {@code /stats}. */
  static TomcatProxyServer start(
      String host, int port, Fanout fanout, boolean demo, StatsEndpoint stats)
      throws IOException {
    for (Logger logger : QUIETED) {
      logger.setLevel(Level.WARNING);
    }
    Path baseDir = Files.createTempDirectory("fanout-tomcat");
    Tomcat tomcat = new Tomcat();
    tomcat.setBaseDir(baseDir.toString());
    Connector connector = new Connector("HTTP/1.1");
    connector.setPort(port);
    connector.setProperty("address", host);
    connector.setEncodedSolidusHandling("passthrough");
    connector.setEncodedReverseSolidusHandling("passthrough");
    connector.setProperty("relaxedPathChars", RELAXED_CHARS);
    connector.setProperty("relaxedQueryChars", RELAXED_CHARS);
    tomcat.getService().addConnector(connector);
    tomcat.setConnector(connector);

    Context context = tomcat.addContext("", null);
    Wrapper fanoutServlet = Tomcat.addServlet(context, "fanout", new FanoutServlet(fanout));
    fanoutServlet.setAsyncSupported(true);
    context.addServletMappingDecoded("/*", "fanout");
    Tomcat.addServlet(context, "demo-page", new DemoPage.Servlet());
    context.addServletMappingDecoded(DemoPage.PATH, "demo-page");
    Tomcat.addServlet(context, "stats", stats.servlet());
    context.addServletMappingDecoded(StatsEndpoint.PATH, "stats");
    ScheduledExecutorService timer = null;
    if (demo) {
      timer = DemoClock.newTimer();
      Wrapper clock = Tomcat.addServlet(context, "demo-clock", new DemoClockServlet(timer));
      clock.setAsyncSupported(true);
      context.addServletMappingDecoded("/demo/clock", "demo-clock");
    }

    TomcatProxyServer started = new TomcatProxyServer(tomcat, connector, host, baseDir, timer);
    try {
      tomcat.start();
    } catch (LifecycleException e) {
      started.close();
      throw new IOException("Tomcat did not start", e);
    }
    if (connector.getState() != LifecycleState.STARTED) {
      started.close();
      throw new IOException("Tomcat could not listen on " + host + ":" + port);
    }
    started.keepJvmAlive();
    return started;
  }

  private void keepJvmAlive() {
    Thread waiter = new Thread(() -> {
      try {
        stopped.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "tomcat-proxy-await");
    waiter.start();
  }

  @Override
  public String baseUrl() {
    return ProxyServer.baseUrl(host, connector.getLocalPort());
  }

  @Override
  public void close() {
    if (demoTimer != null) {
      DemoClock.stop(demoTimer);
    }
    try {
      tomcat.stop();
      tomcat.destroy();
    } catch (LifecycleException e) {
      throw new IllegalStateException("Tomcat did not stop", e);
    } finally {
      stopped.countDown();
      deleteTree(baseDir);
    }
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
