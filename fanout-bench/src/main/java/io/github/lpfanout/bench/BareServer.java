package io.github.lpfanout.bench;

import java.util.List;

/**
 * A server that stands in for the baseline: it serves the driver's clients on a loopback port and
 * writes them the frames its feed pushes, with nothing of the library in it.
 */
interface BareServer extends AutoCloseable {
  /** The names {@code --baseline-server} takes: each a server {@link BaselineMain} can run. */
  List<String> NAMES = List.of("nio", "jdk", "jetty");

  /** The loopback port clients connect to. */
  int port();

  /** Clients whose stream is open now. */
  int clients();

  /** What the server is, for its log, such as "the bare JDK HttpServer, 2 writer threads". */
  String description();

  @Override
  void close();
}
