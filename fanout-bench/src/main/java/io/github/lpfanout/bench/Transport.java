package io.github.lpfanout.bench;

import io.github.lpfanout.Fanout;
import java.util.List;

/**
 * One way of serving a {@link Fanout} over HTTP, run inside the proxy process. It serves {@code
 * /sse/...} and {@code /bin/...} at the root of {@code 127.0.0.1:<port>}.
 *
 * <p>To add a transport, implement this and name it in {@link #create} and {@link #NAMES}; the
 * driver then runs every workload against it when {@code --transports} lists its name.
 */
interface Transport extends AutoCloseable {

  /** The names {@link #create} knows. */
  List<String> NAMES = List.of("jdk", "jetty", "tomcat");

  /** The transport named {@code name} on the command line. */
  static Transport create(String name, ProxyMain.Options options) {
    return switch (name) {
      case "jdk" -> new JdkHttpTransport(options.writers());
      case "jetty" -> new JettyTransport(options.heartbeatMillis(), options.servletBufferBytes());
      case "tomcat" ->
          new TomcatTransport(options.heartbeatMillis(), options.servletBufferBytes());
      default -> throw new IllegalArgumentException(
          "unknown transport " + name + "; known: " + String.join(", ", NAMES));
    };
  }

  /** Starts serving {@code fanout} on a free loopback port and returns the port. */
  int start(Fanout fanout) throws Exception;

  /** Stops serving. The caller has closed the {@link Fanout} already. */
  @Override
  void close() throws Exception;
}
