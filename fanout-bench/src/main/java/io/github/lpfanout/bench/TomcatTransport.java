package io.github.lpfanout.bench;

import io.github.lpfanout.Fanout;
import io.github.lpfanout.servlet.FanoutServlet;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;

/**
 * Embedded Tomcat 9 (the NIO connector) with {@link FanoutServlet} at {@code /*} of the root
 * context, registered with async support, as the runnable proxy's Tomcat serves it, with the
 * connector settings that many long-lived streams need.
 *
 * <p>Tomcat's defaults are sized for short requests: it accepts at most 8,192 connections and then
 * stops accepting, and queues 100 in the listen backlog. So {@code maxConnections} is unlimited and
 * {@code acceptCount} as long as the JDK transport's backlog. {@code connectionTimeout}, which also
 * bounds a write the client does not read, is at least twice the heartbeat interval.
 *
 * <p>Each connection's socket read buffer ({@code socket.appReadBufSize}) is 1 KiB rather than 8:
 * a stream's client sends one short request, and the request's input buffer is that size plus
 * {@code maxHttpRequestHeaderSize}, which stays 8 KiB so that long URL lists still fit. That takes
 * 14 KiB of heap off each idle stream. The write buffer stays 8 KiB, as Tomcat writes a large
 * frame to the socket in pieces of its size. Every other setting is Tomcat's default, threads
 * included: no thread is held per stream.
 *
 * <p>Note: most of what remains per stream cannot be set. Tomcat gives every request and response
 * an 8 KiB byte buffer and an 8,192-character buffer (16 KiB), 48 KiB in all, allocated whether
 * they are used or not, and {@code setBufferSize} only ever grows the response's.
 */
final class TomcatTransport implements Transport {
  private static final int BACKLOG = 4096;
  /** Tomcat's own default for the NIO connector. */
  private static final long CONNECTION_TIMEOUT_MILLIS = 60_000;
  private static final int READ_BUFFER_BYTES = 1024;
  /** The characters that the runnable proxy lets through unencoded in a request target. */
  private static final String RELAXED_CHARS = "\"<>[\\]^`{|}";

  private final long connectionTimeoutMillis;
  private final int responseBufferBytes;
  private Tomcat tomcat;
  private Path baseDir;

  /** @param responseBufferBytes the servlet's {@code response-buffer-bytes} */
  TomcatTransport(long heartbeatMillis, int responseBufferBytes) {
    this.connectionTimeoutMillis = Math.max(CONNECTION_TIMEOUT_MILLIS, 2 * heartbeatMillis);
    this.responseBufferBytes = responseBufferBytes;
  }

  @Override
  public int start(Fanout fanout) throws Exception {
    baseDir = Files.createTempDirectory("fanout-bench-tomcat");
    tomcat = new Tomcat();
    tomcat.setBaseDir(baseDir.toString());
    Connector connector = new Connector("HTTP/1.1");
    connector.setPort(0);
    set(connector, "address", "127.0.0.1");
    set(connector, "maxConnections", "-1");
    set(connector, "acceptCount", Integer.toString(BACKLOG));
    set(connector, "connectionTimeout", Long.toString(connectionTimeoutMillis));
    set(connector, "socket.appReadBufSize", Integer.toString(READ_BUFFER_BYTES));
    connector.setEncodedSolidusHandling("passthrough");
    connector.setEncodedReverseSolidusHandling("passthrough");
    set(connector, "relaxedPathChars", RELAXED_CHARS);
    set(connector, "relaxedQueryChars", RELAXED_CHARS);
    tomcat.getService().addConnector(connector);
    tomcat.setConnector(connector);

    Context context = tomcat.addContext("", null);
    Wrapper servlet = Tomcat.addServlet(context, "fanout", new FanoutServlet(fanout));
    servlet.setAsyncSupported(true);
    servlet.addInitParameter("response-buffer-bytes", Integer.toString(responseBufferBytes));
    context.addServletMappingDecoded("/*", "fanout");

    tomcat.start();
    if (connector.getState() != LifecycleState.STARTED) {
      throw new IOException("Tomcat's connector did not start: " + connector.getState());
    }
    return connector.getLocalPort();
  }

  /** Sets a connector property, failing on a name Tomcat does not know rather than ignoring it. */
  private static void set(Connector connector, String name, String value) {
    if (!connector.setProperty(name, value)) {
      throw new IllegalArgumentException("Tomcat's connector has no property " + name);
    }
  }

  @Override
  public void close() throws Exception {
    try {
      tomcat.stop();
      tomcat.destroy();
    } finally {
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
