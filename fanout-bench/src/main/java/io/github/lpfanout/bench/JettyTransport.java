package io.github.lpfanout.bench;

import io.github.lpfanout.Fanout;
import io.github.lpfanout.servlet.FanoutServlet;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

/**
 * Embedded Jetty 9.4 with {@link FanoutServlet} at {@code /*} of the root context, registered with
 * async support, as the runnable proxy's Jetty serves it.
 *
 * <p>The connector keeps Jetty's defaults except where many clients need otherwise: a listen
 * backlog as long as the JDK transport's, because Jetty's default leaves it to the JVM (50), and an
 * idle timeout of at least twice the heartbeat interval, so that an idle stream is never cut.
 *
 * <p>Two buffers are sized for streams, which each carry one request for as long as they last.
 * The parser's cache of header fields (1,024 entries by default, 16 KiB of heap per connection,
 * made at the first request) only pays off over many requests on one connection, so it is off. A
 * response holds its aggregation buffer, taken at its first write, until it completes: 8 KiB
 * rather than the default 32 KiB, direct memory in both cases.
 */
final class JettyTransport implements Transport {
  private static final int BACKLOG = 4096;
  /** Jetty's own default. */
  private static final long IDLE_TIMEOUT_MILLIS = 30_000;
  private static final int OUTPUT_BUFFER_BYTES = 8192;

  private final long idleTimeoutMillis;
  private final int responseBufferBytes;
  private Server server;

  /** @param responseBufferBytes the servlet's {@code response-buffer-bytes} */
  JettyTransport(long heartbeatMillis, int responseBufferBytes) {
    this.idleTimeoutMillis = Math.max(IDLE_TIMEOUT_MILLIS, 2 * heartbeatMillis);
    this.responseBufferBytes = responseBufferBytes;
  }

  @Override
  public int start(Fanout fanout) throws Exception {
    server = new Server();
    HttpConfiguration http = new HttpConfiguration();
    http.setHeaderCacheSize(0);
    http.setOutputBufferSize(OUTPUT_BUFFER_BYTES);
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    connector.setAcceptQueueSize(BACKLOG);
    connector.setIdleTimeout(idleTimeoutMillis);
    server.addConnector(connector);

    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/");
    ServletHolder holder = new ServletHolder("fanout", new FanoutServlet(fanout));
    holder.setAsyncSupported(true);
    holder.setInitParameter("response-buffer-bytes", Integer.toString(responseBufferBytes));
    context.addServlet(holder, "/*");
    server.setHandler(context);

    server.start();
    return connector.getLocalPort();
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }
}
