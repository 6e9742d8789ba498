package io.github.lpfanout.bench;

import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.PollerRegistry;
import java.time.Duration;
import java.util.Set;

/**
 * The proxy process the driver starts for each workload: a {@link Fanout} that asks the driver's
 * auth server, served by one {@link Transport}, controlled through {@link ServerControl}.
 *
 * <p>The registry polls with no minimum gap, because the benchmark's upstream paces itself and a
 * single URL must reach hundreds of messages a second; everything else is the library's default.
 */
public final class ProxyMain {

  /** What the driver passes on the command line. */
  record Options(String transport, String authUrl, String writers, long heartbeatMillis,
      long maxSeconds) {

    static Options parse(String[] args) {
      Flags flags = new Flags(args,
          Set.of("transport", "auth-url", "writers", "heartbeat-ms", "max-seconds"));
      String authUrl = flags.string("auth-url", null);
      if (authUrl == null) {
        throw new IllegalArgumentException("--auth-url is required");
      }
      return new Options(flags.string("transport", "jdk"), authUrl,
          flags.string("writers", "default"), flags.integer("heartbeat-ms", 15_000),
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
        .authorizer(Authorizer.http(options.authUrl()))
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
