package io.github.lpfanout.bench;

import io.github.lpfanout.Fanout;
import io.github.lpfanout.HttpAuthorizer;
import io.github.lpfanout.PollerRegistry;
import java.time.Duration;
import java.util.Set;

/**
 * The proxy process the driver starts for each workload: a {@link Fanout} that asks the driver's
 * auth server, served by one {@link Transport}, controlled through {@link ServerControl}.
 *
 * <p>The registry polls with no minimum gap, because the benchmark's upstream paces itself and a
 * single URL must reach hundreds of messages a second. The authorizer may have as many requests in
 * flight as the load client has connections unanswered: its default cap (256) is below the
 * driver's window (500), and a container that parses requests on many threads at once would
 * otherwise refuse the excess with 503 while the auth server is idle. Everything else is the
 * library's default.
 */
public final class ProxyMain {

  /** What the driver passes on the command line. */
  record Options(String transport, String authUrl, int maxAuthRequests, String writers,
      long heartbeatMillis, int servletBufferBytes, long maxSeconds) {

    static Options parse(String[] args) {
      Flags flags = new Flags(args, Set.of("transport", "auth-url", "max-auth-requests", "writers",
          "heartbeat-ms", "servlet-buffer-bytes", "max-seconds"));
      String authUrl = flags.string("auth-url", null);
      if (authUrl == null) {
        throw new IllegalArgumentException("--auth-url is required");
      }
      return new Options(flags.string("transport", "jdk"), authUrl,
          flags.integer("max-auth-requests", 256), flags.string("writers", "default"),
          flags.integer("heartbeat-ms", 15_000), flags.integer("servlet-buffer-bytes", 8192),
          flags.integer("max-seconds", 1800));
    }
  }

  private ProxyMain() {}

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    PollerRegistry registry = PollerRegistry.newBuilder()
        .minPollGap(Duration.ZERO)
        .readTimeout(Duration.ofMinutes(10))
        .build();
    Fanout fanout = Fanout.newBuilder()
        .authorizer(HttpAuthorizer.newBuilder()
            .authUrl(options.authUrl())
            .maxConcurrentRequests(options.maxAuthRequests())
            // Every load client connects from loopback: one address must get the whole window.
            .maxConcurrentRequestsPerAddress(options.maxAuthRequests())
            .build())
        .registry(registry)
        .heartbeatInterval(Duration.ofMillis(options.heartbeatMillis()))
        .build();
    Transport transport = Transport.create(options.transport(), options);
    int port = transport.start(fanout);

    ServerControl.serve(port, fanout::clientCount, () -> {
      fanout.close();
      try {
        transport.close();
      } catch (Exception e) {
        System.err.println("closing transport " + options.transport() + " failed: " + e);
      }
    }, options.maxSeconds());
  }
}
