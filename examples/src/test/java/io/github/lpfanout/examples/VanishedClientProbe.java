package io.github.lpfanout.examples;

import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.FanoutStats;
import io.github.lpfanout.PollerRegistry;
import io.github.lpfanout.UpstreamUrl;
import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.BinRecorder;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;

/**
 * Makes clients vanish the way a pulled cable does, and reports when each transport let them go.
 * {@link VanishedClientIT} runs it as root of a network namespace of its own ({@code unshare
 * -Urn}), where it owns the loopback, its routing rules and its {@code tcp_retries2}; it refuses
 * to run anywhere that has a network interface other than {@code lo}.
 *
 * <p>For each transport of the proxy, and for each of two heartbeat intervals (the one under test
 * and one too long to fire), it serves a fanout of its own from a real proxy server, with two
 * clients: a healthy one on 127.0.0.1, subscribed to a URL that gets a message every {@value
 * #PUBLISH_MILLIS} ms, and one bound to {@value #VANISHING_ADDRESS}, subscribed to a URL that
 * gets none, so that only heartbeats are ever written to it. Once both are subscribed, a
 * blackhole rule makes every packet sent to {@value #VANISHING_ADDRESS} disappear: the vanishing
 * client sends no FIN and no RST, and acknowledges nothing from then on. For the window that
 * follows, it watches each fanout's stats for the vanished client to be let go.
 *
 * <p>Arguments: the heartbeat interval under test and the window, in milliseconds, and the
 * {@code tcp_retries2} to set. It prints one line per transport and interval, such as {@code
 * vanished-client transport=Jetty heartbeat-ms=1000 let-go-ms=4210 healthy-delivered=300
 * healthy-expected=300}.
 *
 * <p>{@code let-go-ms} is the time from the blackhole to the vanished client's unsubscription, or
 * {@code -1} if it was still subscribed when the window ended. The healthy counts are the messages
 * published to the healthy client's URL and those it received, in order and each once. It exits
 * with {@value #UNAVAILABLE} and a line starting {@code unavailable:} if it cannot set up the
 * network, with 0 when it printed every line, and with 1 on any other failure.
 */
final class VanishedClientProbe {
  static final String LINE_PREFIX = "vanished-client ";
  static final int UNAVAILABLE = 3;

  private static final String VANISHING_ADDRESS = "127.0.0.2";
  private static final long PUBLISH_MILLIS = 50;
  private static final String PUSHED = "http://push.example/";
  private static final String BUSY = PUSHED + "busy";
  private static final String QUIET = PUSHED + "quiet";
  /** As long as the window may be: a heartbeat that never fires while the probe runs. */
  private static final Duration NO_HEARTBEAT = Duration.ofHours(1);

  /** The transports of the proxy, named as the conformance suite names them. */
  enum Transport {
    JdkHttp, Jetty, Tomcat;

    ProxyServer start(Fanout fanout) throws IOException {
      return switch (this) {
        case JdkHttp -> JdkProxyServer.start("127.0.0.1", 0, fanout, false);
        case Jetty -> JettyProxyServer.start("127.0.0.1", 0, fanout, false);
        case Tomcat -> TomcatProxyServer.start("127.0.0.1", 0, fanout, false);
      };
    }
  }

  private VanishedClientProbe() {}

  public static void main(String[] args) {
    int status;
    try {
      status = run(Duration.ofMillis(Long.parseLong(args[0])),
          Duration.ofMillis(Long.parseLong(args[1])), Integer.parseInt(args[2]));
    } catch (Throwable e) {
      e.printStackTrace();
      status = 1;
    }
    System.out.flush();
    // Jetty's and Tomcat's threads are not all daemons; the status is all that is left to say.
    System.exit(status);
  }

  private static int run(Duration heartbeat, Duration window, int tcpRetries2) throws Exception {
    String unavailable = privateLoopback(tcpRetries2);
    if (unavailable != null) {
      System.out.println("unavailable: " + unavailable);
      return UNAVAILABLE;
    }

    // Every healthy stream is a call to 127.0.0.1 that never ends: more than OkHttp's default 5.
    Dispatcher streams = new Dispatcher();
    streams.setMaxRequestsPerHost(streams.getMaxRequests());
    OkHttpClient client = new OkHttpClient.Builder()
        .dispatcher(streams)
        .readTimeout(Duration.ofSeconds(30))
        .build();
    List<Trial> trials = new ArrayList<>();
    ScheduledExecutorService publisher = Executors.newSingleThreadScheduledExecutor();
    try {
      for (Duration interval : List.of(heartbeat, NO_HEARTBEAT)) {
        for (Transport transport : Transport.values()) {
          trials.add(Trial.start(transport, interval, client));
        }
      }
      publisher.scheduleAtFixedRate(() -> trials.forEach(Trial::publish),
          0, PUBLISH_MILLIS, TimeUnit.MILLISECONDS);

      ip("rule", "add", "pref", "10", "to", VANISHING_ADDRESS, "blackhole");
      watch(trials, window);

      publisher.shutdown();
      if (!publisher.awaitTermination(5, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the publisher did not stop");
      }
      for (Trial trial : trials) {
        System.out.println(trial.report());
      }
      return 0;
    } finally {
      publisher.shutdownNow();
      for (Trial trial : trials) {
        trial.close();
      }
      client.dispatcher().executorService().shutdownNow();
      client.connectionPool().evictAll();
    }
  }

  /**
   * Checks that this process has a network namespace of its own, then brings its loopback up,
   * sets its {@code tcp_retries2}, and lets routing rules of a higher priority than the local
   * table's (which by default is looked up first and would route every loopback address) decide
   * first. Returns null, or why the network cannot be set up.
   */
  private static String privateLoopback(int tcpRetries2) throws InterruptedException {
    try {
      // Until it is up, a new namespace's loopback has no address, and Java then lists nothing.
      ip("link", "set", "lo", "up");
      for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!nic.getName().equals("lo")) {
          return "not in a network namespace of its own: it has interface " + nic.getName();
        }
      }
      Files.writeString(Path.of("/proc/sys/net/ipv4/tcp_retries2"), tcpRetries2 + "\n");
      ip("rule", "add", "pref", "100", "lookup", "local");
      ip("rule", "del", "pref", "0");
      return null;
    } catch (IOException e) {
      return e.toString().replace('\n', ' ');
    }
  }

  /** Runs {@code ip} with {@code args}, failing with its output if it does not succeed. */
  private static void ip(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("ip"));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IOException(String.join(" ", command) + " failed: " + output.strip());
    }
  }

  /** Notes when each trial's vanished client is let go, until {@code window} has passed. */
  private static void watch(List<Trial> trials, Duration window) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + window.toNanos();
    while (System.nanoTime() < deadline) {
      for (Trial trial : trials) {
        trial.check(start);
      }
      TimeUnit.MILLISECONDS.sleep(5);
    }
  }

  /** One transport with one heartbeat interval: its fanout, its server and its two clients. */
  private static final class Trial implements AutoCloseable {
    private final Transport transport;
    private final Duration heartbeat;
    private final Fanout fanout;
    private final ProxyServer server;
    private final BinRecorder healthy;
    private final Socket vanishing;
    private volatile int published;
    private long letGoNanos = -1;

    private Trial(Transport transport, Duration heartbeat, Fanout fanout, ProxyServer server,
        BinRecorder healthy, Socket vanishing) {
      this.transport = transport;
      this.heartbeat = heartbeat;
      this.fanout = fanout;
      this.server = server;
      this.healthy = healthy;
      this.vanishing = vanishing;
    }

    static Trial start(Transport transport, Duration heartbeat, OkHttpClient client)
        throws IOException {
      Fanout fanout = Fanout.newBuilder()
          .registry(PollerRegistry.newBuilder().pushFedPrefix(PUSHED).build())
          .authorizer(Authorizer.allowAll())
          .heartbeatInterval(heartbeat)
          .shutdownGrace(Duration.ofMillis(200))
          .build();
      ProxyServer server = null;
      BinRecorder healthy = null;
      Socket vanishing = null;
      try {
        server = transport.start(fanout);
        healthy = BinRecorder.connect(client, server.baseUrl() + "/bin/" + BUSY);
        vanishing = openStream(server.baseUrl(), "/sse/" + QUIET,
            InetAddress.getByName(VANISHING_ADDRESS));
        Await.until(transport + ": both clients subscribed", () -> {
          FanoutStats stats = fanout.stats();
          return stats.clients() == 2 && stats.subscriptions() == 2;
        });
        return new Trial(transport, heartbeat, fanout, server, healthy, vanishing);
      } catch (IOException | RuntimeException | Error e) {
        new Trial(transport, heartbeat, fanout, server, healthy, vanishing).close();
        throw e;
      }
    }

    /** Publishes the next message to the healthy client's URL. */
    void publish() {
      int next = published + 1;
      byte[] body = Integer.toString(next).getBytes(StandardCharsets.UTF_8);
      fanout.registry().publish(UpstreamUrl.of(BUSY), body, "text/plain");
      published = next;
    }

    /** Notes the time if the vanished client was let go since {@code startNanos}. */
    void check(long startNanos) {
      if (letGoNanos < 0 && fanout.registry().subscriberCount(UpstreamUrl.of(QUIET)) == 0
          && fanout.clientCount() == 1) {
        letGoNanos = System.nanoTime() - startNanos;
      }
    }

    /** The messages the healthy client received in order, each once, waiting for the last. */
    int healthyDelivered() throws InterruptedException {
      int delivered = 0;
      while (delivered < published) {
        BinRecorder.Frame frame;
        try {
          frame = healthy.next(Duration.ofSeconds(10));
        } catch (AssertionError late) {
          break;
        }
        if (!frame.url().equals(BUSY)
            || !frame.text().equals(Integer.toString(delivered + 1))) {
          break;
        }
        delivered++;
      }
      return delivered;
    }

    String report() throws InterruptedException {
      long letGoMillis = letGoNanos < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(letGoNanos);
      return LINE_PREFIX + "transport=" + transport + " heartbeat-ms=" + heartbeat.toMillis()
          + " let-go-ms=" + letGoMillis + " healthy-delivered=" + healthyDelivered()
          + " healthy-expected=" + published;
    }

    /** Closes what was started; a trial that failed to start may lack its server or clients. */
    @Override
    public void close() {
      if (healthy != null) {
        healthy.close();
      }
      fanout.close();
      if (server != null) {
        server.close();
      }
      try {
        if (vanishing != null) {
          vanishing.close();
        }
      } catch (IOException ignored) {
        // The probe is ending; its namespace goes with it.
      }
    }
  }

  /**
   * Opens a stream from {@code from} with {@code GET <target>} and reads its response head and
   * first frame, so that the fanout has admitted it. Throws if the answer is not 200.
   */
  private static Socket openStream(String base, String target, InetAddress from)
      throws IOException {
    URI uri = URI.create(base);
    Socket socket = new Socket();
    socket.bind(new InetSocketAddress(from, 0));
    socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 10_000);
    socket.setSoTimeout(10_000);
    String request = "GET " + target + " HTTP/1.1\r\nHost: " + uri.getHost() + ":"
        + uri.getPort() + "\r\n\r\n";
    socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();

    String head = readUntil(socket.getInputStream(), "\r\n\r\n");
    if (!head.startsWith("HTTP/1.1 200 ")) {
      throw new IOException("the stream was refused: " + head);
    }
    readUntil(socket.getInputStream(), ":\n\n");
    return socket;
  }

  /** Reads up to and including the first {@code end}, one byte at a time, and returns it all. */
  private static String readUntil(InputStream in, String end) throws IOException {
    StringBuilder read = new StringBuilder();
    while (read.indexOf(end) < 0) {
      int c = in.read();
      if (c < 0) {
        throw new SocketException("the stream ended before " + end.strip() + ": " + read);
      }
      read.append((char) c);
    }
    return read.toString();
  }
}
