package io.github.lpfanout.examples;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * The runnable proxy's command line.
 *
 * @param authServer the auth server's URL, or null
 * @param noAuth whether every client is admitted without asking anyone
 * @param host the address to listen on
 * @param port the port to listen on; 0 picks a free one
 * @param allow the URL prefixes upstreams must start with; empty for the mode's default
 * @param transport the server that serves the streams: {@code jdk}, {@code jetty} or {@code tomcat}
 * @param statsToken the token that lets a client off loopback read {@code /stats}, or null
 * @param help whether the usage was asked for
 */
record ProxyOptions(
    String authServer,
    boolean noAuth,
    String host,
    int port,
    List<String> allow,
    String transport,
    String statsToken,
    boolean help) {

  private static final List<String> TRANSPORTS = List.of("jdk", "jetty", "tomcat");

  static final String USAGE = String.join("\n",
      "Usage: java -jar fanout-proxy.jar [options]",
      "",
      "Streams upstream long-poll responses to many clients:",
      "  GET /sse/<url>[,<url>...]   Server-Sent Events, one event per response",
      "  GET /bin/<url>[,<url>...]   frames of <url>\\n<uint32 length><body>",
      "",
      "Options:",
      "  --auth_server=URL  ask this server (POST of the URL list) before admitting a client;",
      "                     also spelled --auth-server",
      "  --no-auth          admit every client without asking (logs a warning)",
      "  --host=ADDR        address to listen on (default 127.0.0.1)",
      "  --port=N           port to listen on (default 5000; 0 picks a free port)",
      "  --allow=PREFIX     poll only upstream URLs that start with PREFIX (repeatable); by",
      "                     default any URL but link-local and cloud metadata addresses with",
      "                     --auth_server, and loopback upstreams only otherwise",
      "  --transport=NAME   jdk (the JDK HttpServer, default), jetty or tomcat (the servlet in",
      "                     embedded Jetty 9.4 or Tomcat 9)",
      "  --stats-token=T    let clients off loopback read /stats with 'Authorization: Bearer T';",
      "                     the token may also come from the FANOUT_STATS_TOKEN variable",
      "  --help             print this and exit",
      "",
      "With neither --auth_server nor --no-auth the proxy runs in demo mode: no auth, loopback",
      "only, and a demo upstream at /demo/clock that answers once a second with the time.");

  /** Whether neither an auth server nor --no-auth was given. */
  boolean demo() {
    return authServer == null && !noAuth;
  }

  /**
   * Reads the arguments.
   *
   * @throws IllegalArgumentException with a one-line reason if they are not valid
   */
  static ProxyOptions parse(String... args) {
    String authServer = null;
    boolean noAuth = false;
    String host = "127.0.0.1";
    int port = 5000;
    boolean help = false;
    List<String> allow = new ArrayList<>();
    String transport = "jdk";
    String statsToken = blankToNull(System.getenv("FANOUT_STATS_TOKEN"));

    List<String> rest = new ArrayList<>(List.of(args));
    while (!rest.isEmpty()) {
      String arg = rest.remove(0);
      int equals = arg.indexOf('=');
      String name = equals < 0 ? arg : arg.substring(0, equals);
      switch (name) {
        case "--help", "-h", "-help" -> help = true;
        case "--no-auth", "-no-auth" -> {
          if (equals >= 0) {
            throw new IllegalArgumentException("--no-auth takes no value");
          }
          noAuth = true;
        }
        case "--auth_server", "--auth-server", "-auth_server" ->
            authServer = value(name, arg, equals, rest);
        case "--host", "-host" -> host = value(name, arg, equals, rest);
        case "--port", "-port" -> port = port(value(name, arg, equals, rest));
        case "--allow", "-allow" -> allow.add(prefix(value(name, arg, equals, rest)));
        case "--transport", "-transport" -> transport = value(name, arg, equals, rest);
        case "--stats-token", "-stats-token" -> statsToken = value(name, arg, equals, rest);
        default -> throw new IllegalArgumentException("unknown option " + name);
      }
    }

    if (authServer != null && noAuth) {
      throw new IllegalArgumentException("--auth_server and --no-auth exclude each other");
    }
    if (authServer != null && okhttp3.HttpUrl.parse(authServer) == null) {
      throw new IllegalArgumentException(
          "--auth_server is not an http or https URL: " + authServer);
    }
    if (!TRANSPORTS.contains(transport)) {
      throw new IllegalArgumentException(
          "--transport must be one of " + String.join(", ", TRANSPORTS) + ": " + transport);
    }
    if (statsToken != null && statsToken.length() < 16) {
      throw new IllegalArgumentException("--stats-token must be at least 16 characters");
    }
    ProxyOptions options = new ProxyOptions(
        authServer, noAuth, host, port, List.copyOf(allow), transport, statsToken, help);
    if (options.demo() && !help && !isLoopback(host)) {
      throw new IllegalArgumentException(
          "demo mode listens on loopback only; give --auth_server or --no-auth to use " + host);
    }
    return options;
  }

  private static String value(String name, String arg, int equals, List<String> rest) {
    if (equals >= 0) {
      return arg.substring(equals + 1);
    }
    if (rest.isEmpty()) {
      throw new IllegalArgumentException(name + " needs a value");
    }
    return rest.remove(0);
  }

  private static String blankToNull(String text) {
    return text == null || text.isBlank() ? null : text;
  }

  private static String prefix(String text) {
    if (okhttp3.HttpUrl.parse(text) == null) {
      throw new IllegalArgumentException("--allow takes an http or https URL prefix: " + text);
    }
    return text;
  }

  private static int port(String text) {
    try {
      int port = Integer.parseInt(text);
      if (port >= 0 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException ignored) {
      // Reported below.
    }
    throw new IllegalArgumentException("--port must be a number from 0 to 65535: " + text);
  }

  private static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
