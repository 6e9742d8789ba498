package io.github.lpfanout.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** The driver's options; {@link #USAGE} lists them with their defaults. */
record BenchOptions(
    List<String> workloads,
    List<String> transports,
    boolean baseline,
    List<Integer> clients,
    List<Integer> steps,
    List<Integer> binarySteps,
    double stepSeconds,
    double warmupSeconds,
    double p99LimitMillis,
    int bodyBytes,
    int binaryBodyBytes,
    int spreadClients,
    int spreadUrls,
    int spreadUrlsPerClient,
    double spreadRate,
    double spreadSeconds,
    int idleClients,
    double idleSeconds,
    int clientThreads,
    int connectWindow,
    int warmupClients,
    long heartbeatMillis,
    String serverJava,
    List<String> serverJvmArgs,
    String writers,
    int servletBufferBytes,
    int baselineThreads,
    String baselineServer,
    Path jfrDir,
    Path logDir,
    int maxMinutes,
    int rounds,
    boolean help) {

  static final String USAGE = """
      java -jar fanout-bench.jar [--flag=value ...]

        --workloads=broadcast,spread,idle,binary   which workloads, in this order
        --transports=jdk                 transports to measure, each beside the baseline: jdk
                                         (the JDK HttpServer), jetty (Jetty 9.4), tomcat (Tomcat 9)
        --no-baseline                    skip the bare baseline server
        --clients=1000,10000             client counts of broadcast and binary
        --steps=25000,50000,...          offered deliveries/s, step by step, until p99 passes the
                                         limit or the rate is not held (msg/s = step / clients)
        --binary-steps=10000,25000,...   the same for binary, whose frames are 16 times larger
        --step-seconds=3                 measured time of a step (at least 20 messages' worth)
        --warmup-seconds=1               time at a step's rate before it is measured
        --p99-limit-ms=100               a step whose p99 is above this is not held
        --body-bytes=1024                body size of broadcast and spread
        --binary-body-bytes=16384        body size of binary
        --spread-clients=1000 --spread-urls=1000 --spread-urls-per-client=10
        --spread-rate=1                  messages per second of each spread URL
        --spread-seconds=10              measured time of spread
        --idle-clients=10000             idle clients, capped by file descriptors and ports
        --idle-seconds=5                 how long idle clients are watched for CPU use
        --client-threads=2               NIO threads of the load client
        --connect-window=500             connections opened and not yet answered, at most
        --warmup-clients=10000           clients connected and dropped before each measurement, in
                                         batches of the workload's size, so that the server's code
                                         is compiled first
        --heartbeat-ms=15000             the proxy's heartbeat interval
        --server-java=PATH               java that runs the servers (default: this one)
        --server-jvm-args="-Xmx2g"       JVM options of the server processes, space-separated
        --writers=default                the JDK transport's writer executor: default (the
                                         handler's own), platform (cached pool), fixed (a thread
                                         per core), virtual (a virtual thread per task)
        --servlet-buffer-bytes=8192      the servlet's response-buffer-bytes (jetty, tomcat)
        --baseline-threads=CORES         threads of the baseline server that write, at least 1;
                                         by default one per core, so that the baseline is what
                                         the whole machine allows
        --baseline-server=nio            the baseline: nio (a bare non-blocking server), jdk
                                         (the bare JDK HttpServer, one write per client per
                                         frame, and a pool of request threads: what the JDK
                                         server costs without the library) or jetty (bare
                                         Jetty, an async servlet writing without blocking)
        --jfr=DIR                        record each proxy process with JFR (profile settings)
                                         while it is measured, one file per workload
        --log-dir=DIR                    where server logs go (default: a new temp directory)
        --max-minutes=40                 the whole run ends by then, finished or not
        --rounds=1                       run each workload's servers in turn this many times;
                                         from 2 on, each transport's p99 and best rate are also
                                         set against its own round's baseline, with the median
      """;

  private static final String DEFAULT_STEPS =
      "25000,50000,75000,100000,125000,150000,175000,200000,250000,300000,400000";

  static BenchOptions parse(String[] args) {
    Flags flags = new Flags(args, Set.of("workloads", "transports", "no-baseline", "clients",
        "steps", "binary-steps", "step-seconds", "warmup-seconds", "p99-limit-ms", "body-bytes",
        "binary-body-bytes", "spread-clients", "spread-urls", "spread-urls-per-client",
        "spread-rate", "spread-seconds", "idle-clients", "idle-seconds", "client-threads",
        "connect-window", "warmup-clients", "heartbeat-ms",
        "server-java", "server-jvm-args", "writers", "servlet-buffer-bytes", "baseline-threads",
        "baseline-server",
        "jfr", "log-dir", "max-minutes", "rounds", "help"));
    String jfr = flags.string("jfr", null);
    String logDir = flags.string("log-dir", null);
    String jvmArgs = flags.string("server-jvm-args", "-Xmx2g").trim();
    BenchOptions options = new BenchOptions(
        flags.list("workloads", "broadcast,spread,idle,binary"),
        flags.list("transports", "jdk"),
        !flags.bool("no-baseline"),
        flags.integers("clients", "1000,10000"),
        flags.integers("steps", DEFAULT_STEPS),
        flags.integers("binary-steps", "10000,25000,50000,75000,100000,150000,200000"),
        flags.decimal("step-seconds", 3),
        flags.decimal("warmup-seconds", 1),
        flags.decimal("p99-limit-ms", 100),
        flags.integer("body-bytes", 1024),
        flags.integer("binary-body-bytes", 16384),
        flags.integer("spread-clients", 1000),
        flags.integer("spread-urls", 1000),
        flags.integer("spread-urls-per-client", 10),
        flags.decimal("spread-rate", 1),
        flags.decimal("spread-seconds", 10),
        flags.integer("idle-clients", 10_000),
        flags.decimal("idle-seconds", 5),
        flags.integer("client-threads", 2),
        flags.integer("connect-window", 500),
        flags.integer("warmup-clients", 10_000),
        flags.integer("heartbeat-ms", 15_000),
        flags.string("server-java",
            Path.of(System.getProperty("java.home"), "bin", "java").toString()),
        jvmArgs.isEmpty() ? List.of() : List.of(jvmArgs.split("\\s+")),
        flags.string("writers", "default"),
        flags.integer("servlet-buffer-bytes", 8192),
        flags.integer("baseline-threads", Runtime.getRuntime().availableProcessors()),
        flags.string("baseline-server", "nio"),
        jfr == null ? null : Path.of(jfr),
        logDir == null ? null : Path.of(logDir),
        flags.integer("max-minutes", 40),
        flags.integer("rounds", 1),
        flags.bool("help"));
    for (String workload : options.workloads()) {
      if (!Set.of("broadcast", "spread", "idle", "binary").contains(workload)) {
        throw new IllegalArgumentException("unknown workload " + workload);
      }
    }
    for (String transport : options.transports()) {
      if (!Transport.NAMES.contains(transport)) {
        throw new IllegalArgumentException("unknown transport " + transport + "; known: "
            + String.join(", ", Transport.NAMES));
      }
    }
    if (options.baselineThreads() < 1) {
      throw new IllegalArgumentException("--baseline-threads must be at least 1");
    }
    if (options.rounds() < 1) {
      throw new IllegalArgumentException("--rounds must be at least 1");
    }
    if (!BareServer.NAMES.contains(options.baselineServer())) {
      throw new IllegalArgumentException("unknown baseline server \"" + options.baselineServer()
          + "\"; known: " + String.join(", ", BareServer.NAMES));
    }
    if (options.spreadUrlsPerClient() > options.spreadUrls()) {
      throw new IllegalArgumentException("--spread-urls-per-client is more than --spread-urls");
    }
    return options;
  }
}
