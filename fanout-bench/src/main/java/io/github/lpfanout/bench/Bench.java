package io.github.lpfanout.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * Runs workloads against servers, one server process at a time, and collects their results.
 *
 * <p>Each run starts a fresh server process (the baseline, or the proxy under one transport) with
 * a fresh upstream or feed, connects every client, measures, and stops the process, so that one
 * run's heap, threads and ports never leak into the next.
 */
final class Bench {
  /** How long the last warm-up batch is sent messages, enough for some ten thousand deliveries. */
  private static final long WARMUP_DELIVERY_MILLIS = 3000;
  /** The longest wait for the JIT compiler to settle before a workload is measured. */
  private static final int SETTLE_SECONDS = 30;
  /** JIT compiler time in a second below which it counts as settled: 2% of a core. */
  private static final long SETTLED_JIT_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private final BenchOptions options;
  private final AuthServer auth;
  private final Path logDir;
  private final PrintStream progress;

  Bench(BenchOptions options, AuthServer auth, Path logDir, PrintStream progress) {
    this.options = options;
    this.auth = auth;
    this.logDir = logDir;
    this.progress = progress;
  }

  /**
   * Runs {@code workload} against {@code server}: {@code baseline} or a transport's name. Round 1
   * names the server's log and recording after the workload and server; a later round adds its
   * number, so that no round overwrites another's.
   */
  Results run(String server, Workload workload, int round) throws InterruptedException {
    Results results = new Results(server, workload);
    String name = workload.kind() + "-" + workload.clients() + "-" + server
        + (round > 1 ? "-round" + round : "");
    progress.printf("-- %s, %s%s%n", workload.title(), server,
        round > 1 ? ", round " + round : "");
    try (Session session = open(server, workload, logDir.resolve(name + ".log"))) {
      connectAndMeasure(session, workload, results, name);
    } catch (IOException | RuntimeException e) {
      results.error = e.toString();
      progress.println("   failed: " + e);
    }
    return results;
  }

  private void connectAndMeasure(Session session, Workload workload, Results results, String name)
      throws IOException, InterruptedException {
    warmUp(session, workload);
    results.empty = session.process.collect();
    boolean oneTopic = workload.topicsPerClient() == 1;
    LoadClient client = new LoadClient(
        options.clientThreads(), workload.sse(), oneTopic, options.connectWindow());
    try {
      session.source.schedule(workload.topics(), 0, false);
      client.open(session.address, workload.clients(), session.targets);
      results.established =
          client.awaitAnswered(workload.clients(), TimeUnit.MINUTES.toNanos(3));
      results.failed = client.failed();
      results.admissionRate = client.admissionRate();
      results.admissionMicros = client.admissionMicros();
      String failures = client.failures();
      progress.printf("   %,d of %,d clients up (%,d refused or failed%s), %,.0f admitted/s,"
              + " connect to first byte p50 %.1f ms, p99 %.1f ms%n",
          results.established, workload.clients(), results.failed,
          failures.isEmpty() ? "" : ": " + failures, results.admissionRate,
          results.admissionMicros.getValueAtPercentile(50) / 1000.0,
          results.admissionMicros.getValueAtPercentile(99) / 1000.0);
      Thread.sleep(500);
      results.connected = session.process.collect();
      settleCompiler(session);

      boolean recording = options.jfrDir() != null && !session.server.equals("baseline");
      if (recording) {
        session.process.startRecording(options.jfrDir().resolve(name + ".jfr"));
      }
      switch (workload.kind()) {
        case "idle" -> idle(session, results);
        case "spread" -> spread(session, client, workload, results);
        default -> steps(session, client, workload, results);
      }
      if (recording) {
        session.process.stopRecording();
      }
      session.source.schedule(workload.topics(), 0, false);
      results.end = session.process.stats();
    } finally {
      client.close();
    }
  }

  /**
   * Connects and drops clients in batches of at most the workload's size, until {@code
   * --warmup-clients} have been admitted, so that the server's admission and delivery code is
   * compiled before anything is measured. The last batch is sent messages for a few seconds at the
   * workload's first rate while it reads. After each batch it sends a message to each topic, so
   * that every stream of the batch finds its client gone, and waits until the server counts no
   * client.
   *
   * <p>The JIT compiles a method fully only after some ten thousand calls. A single batch of 1,000
   * clients leaves the per-client path half compiled, so the measured batch would time the
   * compiler as much as the server; a server that has run for a while admits faster. In the same
   * way, the few messages that find the clients gone leave the write path half compiled, and the
   * first step measured would pay for its compiling.
   */
  private void warmUp(Session session, Workload workload)
      throws IOException, InterruptedException {
    int remaining = options.warmupClients();
    while (remaining > 0) {
      int count = Math.min(remaining, workload.clients());
      remaining -= count;
      warmUpBatch(session, workload, count, remaining == 0);
    }
  }

  private void warmUpBatch(Session session, Workload workload, int count, boolean deliver)
      throws IOException, InterruptedException {
    LoadClient warm = new LoadClient(
        options.clientThreads(), workload.sse(), false, options.connectWindow());
    try {
      session.source.schedule(workload.topics(), 0, false);
      warm.open(session.address, count, session.targets);
      warm.awaitAnswered(count, TimeUnit.MINUTES.toNanos(2));
      double rate = firstRate(workload);
      if (deliver && rate > 0) {
        session.source.schedule(workload.topics(), rate, workload.kind().equals("spread"));
        Thread.sleep(WARMUP_DELIVERY_MILLIS);
        session.source.schedule(workload.topics(), 0, false);
      }
    } finally {
      warm.close();
    }
    session.source.schedule(workload.topics(), 2, true);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    Thread.sleep(1000);
    while (session.process.stats().clients() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    session.source.schedule(workload.topics(), 0, false);
    int left = session.process.stats().clients();
    if (left > 0) {
      progress.printf("   %,d warm-up streams still open on the server%n", left);
    }
  }

  /**
   * Waits until the JIT compiler has been all but idle for a second, for at most {@value
   * #SETTLE_SECONDS} s. Connecting thousands of clients leaves it seconds of queued compilations,
   * and on two cores it would otherwise take most of a core from the server during the first
   * steps, which then measure the compiler as much as the server. The baseline, with little code,
   * settles at once.
   */
  private void settleCompiler(Session session) throws IOException, InterruptedException {
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(SETTLE_SECONDS);
    ServerProcess.Stats last = session.process.stats();
    while (System.nanoTime() < deadline) {
      Thread.sleep(1000);
      ServerProcess.Stats now = session.process.stats();
      if (compilerSettled(last, now)) {
        long waited = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        if (waited > 1) {
          progress.printf("   waited %d s for the JIT compiler to settle%n", waited);
        }
        return;
      }
      last = now;
    }
    progress.printf("   the JIT compiler was still busy after %d s; measuring anyway%n",
        SETTLE_SECONDS);
  }

  /** Whether the JIT compiler was all but idle between two reports a second apart. */
  static boolean compilerSettled(ServerProcess.Stats before, ServerProcess.Stats after) {
    return after.jitNanosSince(before) <= SETTLED_JIT_NANOS;
  }

  private void idle(Session session, Results results) throws IOException, InterruptedException {
    ServerProcess.Stats start = session.process.stats();
    long startNanos = System.nanoTime();
    Thread.sleep((long) (options.idleSeconds() * 1000));
    ServerProcess.Stats end = session.process.stats();
    long busy = end.serverNanosSince(start);
    results.idleCpuFraction = busy / (double) (System.nanoTime() - startNanos);
  }

  private void spread(Session session, LoadClient client, Workload workload, Results results)
      throws IOException, InterruptedException {
    double rate = options.spreadRate();
    session.source.schedule(workload.topics(), rate, true);
    Thread.sleep((long) (Math.max(2, options.warmupSeconds()) * 1000));
    Results.Step step = measure(session, client, workload, rate, options.spreadSeconds());
    results.steps.add(step);
    report(step);
  }

  private void steps(Session session, LoadClient client, Workload workload, Results results)
      throws IOException, InterruptedException {
    boolean retried = false;
    List<Integer> offers = workload.sse() ? options.steps() : options.binarySteps();
    for (int i = 0; i < offers.size(); ) {
      double rate = rateOf(offers.get(i), workload);
      session.source.schedule(workload.topics(), rate, false);
      Thread.sleep((long) (options.warmupSeconds() * 1000));
      double seconds = Math.max(options.stepSeconds(), 20 / rate);
      Results.Step step = measure(session, client, workload, rate, seconds);
      results.steps.add(step);
      report(step);
      if (step.held()) {
        retried = false;
        i++;
        continue;
      }
      if (retried || step.lost() > 0) {
        break;
      }
      retried = true;
      session.source.schedule(workload.topics(), 0, false);
      Thread.sleep(2000);
      progress.println("   not held; draining for 2 s and trying the same rate once more");
    }
  }

  /** Messages per second of each topic at the workload's first rate; 0 for idle. */
  private double firstRate(Workload workload) {
    return switch (workload.kind()) {
      case "idle" -> 0;
      case "spread" -> options.spreadRate();
      default -> rateOf((workload.sse() ? options.steps() : options.binarySteps()).get(0),
          workload);
    };
  }

  /** Messages per second of each topic that offer {@code deliveries} per second in all. */
  private static double rateOf(double deliveries, Workload workload) {
    return deliveries / workload.readersPerTopic() / workload.topics();
  }

  private Results.Step measure(
      Session session, LoadClient client, Workload workload, double rate, double seconds)
      throws IOException, InterruptedException {
    client.latencyMicros();
    long deliveries = client.deliveries();
    long gaps = client.gaps();
    long joinGaps = client.joinGaps();
    int lost = client.disconnected();
    long sent = session.source.sent();
    ServerProcess.Stats before = session.process.stats();
    long start = System.nanoTime();

    Thread.sleep((long) (seconds * 1000));

    var latency = client.latencyMicros();
    ServerProcess.Stats after = session.process.stats();
    double elapsed = (System.nanoTime() - start) / 1e9;
    long delivered = client.deliveries() - deliveries;
    double sentRate = (session.source.sent() - sent) / elapsed;
    double cpuPerMillion = delivered == 0 ? Double.NaN
        : after.serverNanosSince(before) / 1e9 / (delivered / 1e6);
    double jitCores = after.jitNanosSince(before) / 1e9 / elapsed;
    int lostNow = client.disconnected() - lost;
    double offeredMessages = rate * workload.topics();
    double offered = offeredMessages * workload.readersPerTopic();
    // Delivered as well as sent: with a lenient latency limit, a server that falls behind would
    // otherwise pass a step while its clients' backlog grows.
    boolean held = sentRate >= 0.95 * offeredMessages
        && delivered / elapsed >= 0.95 * offered
        && latency.getValueAtPercentile(99) <= options.p99LimitMillis() * 1000
        && lostNow == 0;
    return new Results.Step(rate, offered, delivered / elapsed, sentRate, latency, cpuPerMillion,
        jitCores,
        client.gaps() - gaps, client.joinGaps() - joinGaps, lostNow, held);
  }

  private void report(Results.Step step) {
    progress.printf("   %,.1f msg/s: %,.0f delivered/s, p50 %.1f ms, p99 %.1f ms, %s%n",
        step.rate(), step.delivered(), step.latency().getValueAtPercentile(50) / 1000.0,
        step.p99Millis(), step.held() ? "held" : "not held");
  }

  private Session open(String server, Workload workload, Path log)
      throws IOException, InterruptedException {
    if (server.equals("baseline")) {
      return baseline(workload, log);
    }
    return proxy(server, workload, log);
  }

  private Session baseline(Workload workload, Path log) throws IOException, InterruptedException {
    Feed feed = new Feed();
    try {
      ServerProcess process = ServerProcess.start("baseline", options.serverJava(),
          options.serverJvmArgs(), BaselineMain.class,
          List.of("--feed-port=" + feed.port(), "--threads=" + options.baselineThreads(),
              "--server=" + options.baselineServer()), log);
      feed.accept();
      Frames[] frames = new Frames[workload.topics()];
      for (int topic = 0; topic < frames.length; topic++) {
        String url = "http://127.0.0.1:" + feed.port() + "/u/" + topic;
        frames[topic] = Frames.chunk(workload.sse(), url, workload.bodyBytes());
      }
      Source source = new Source() {
        @Override
        public void schedule(int topics, double rate, boolean spread) {
          feed.schedule(frames, rate, spread);
        }

        @Override
        public long sent() {
          return feed.sent();
        }

        @Override
        public void close() throws IOException {
          feed.close();
        }
      };
      return new Session("baseline", process, source, workload::baselineTarget);
    } catch (IOException | InterruptedException | RuntimeException e) {
      feed.close();
      throw e;
    }
  }

  private Session proxy(String transport, Workload workload, Path log)
      throws IOException, InterruptedException {
    Upstream upstream = new Upstream(workload.bodyBytes());
    try {
      ServerProcess process = ServerProcess.start(transport, options.serverJava(),
          options.serverJvmArgs(),
          ProxyMain.class, List.of("--transport=" + transport, "--auth-url=" + auth.url(),
              "--max-auth-requests=" + Math.max(256, options.connectWindow()),
              "--writers=" + options.writers(), "--heartbeat-ms=" + options.heartbeatMillis(),
              "--servlet-buffer-bytes=" + options.servletBufferBytes()),
          log);
      Source source = new Source() {
        @Override
        public void schedule(int topics, double rate, boolean spread) {
          upstream.schedule(topics, rate, spread);
        }

        @Override
        public long sent() {
          return upstream.sent();
        }

        @Override
        public void close() throws IOException {
          upstream.close();
        }
      };
      return new Session(transport, process, source, i -> workload.proxyTarget(i, upstream));
    } catch (IOException | InterruptedException | RuntimeException e) {
      upstream.close();
      throw e;
    }
  }

  /** Where a server's messages come from: the upstream it polls, or the feed that pushes. */
  private interface Source extends AutoCloseable {
    void schedule(int topics, double rate, boolean spread);

    long sent();

    @Override
    void close() throws IOException;
  }

  /** A running server process and its source. */
  private static final class Session implements AutoCloseable {
    final String server;
    final ServerProcess process;
    final Source source;
    final IntFunction<String> targets;
    final InetSocketAddress address;

    Session(String server, ServerProcess process, Source source, IntFunction<String> targets) {
      this.server = server;
      this.process = process;
      this.source = source;
      this.targets = targets;
      this.address = new InetSocketAddress(InetAddress.getLoopbackAddress(), process.port());
    }

    @Override
    public void close() throws IOException, InterruptedException {
      try {
        process.close();
      } finally {
        source.close();
      }
    }
  }
}
