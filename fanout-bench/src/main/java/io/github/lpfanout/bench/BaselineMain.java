package io.github.lpfanout.bench;

import java.util.Set;

/**
 * The baseline's process: a {@link BaselineServer}, or with {@code --server=jdk} a {@link
 * JdkFloorServer} and with {@code --server=jetty} a {@link JettyFloorServer}, fed by the driver,
 * under ServerControl.
 */
public final class BaselineMain {

  private BaselineMain() {}

  public static void main(String[] args) throws Exception {
    Flags flags = new Flags(args, Set.of("feed-port", "threads", "server", "max-seconds"));
    int threads = flags.integer("threads", 1);
    int feedPort = flags.integer("feed-port", -1);
    long maxSeconds = flags.integer("max-seconds", 1800);
    String name = flags.string("server", "nio");
    BareServer server = switch (name) {
      case "nio" -> new BaselineServer(threads, feedPort);
      case "jdk" -> new JdkFloorServer(threads, feedPort);
      case "jetty" -> new JettyFloorServer(threads, feedPort);
      default -> throw new IllegalArgumentException("unknown baseline server \"" + name
          + "\"; known: " + String.join(", ", BareServer.NAMES));
    };
    System.err.println("baseline: " + server.description());
    ServerControl.serve(server.port(), server::clients, server::close, maxSeconds);
  }
}
