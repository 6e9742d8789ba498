package io.github.lpfanout.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The benchmark's entry point: runs each workload against the baseline and each transport, on
 * loopback, and prints a table per workload. {@code java -jar fanout-bench.jar jmh [JMH options]}
 * runs the microbenchmarks instead, and {@code footprint [clients]} measures the heap the core
 * alone keeps per idle client.
 */
public final class FanoutBench {

  private FanoutBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("jmh")) {
      org.openjdk.jmh.Main.main(Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    if (args.length > 0 && args[0].equals("footprint")) {
      CoreFootprint.run(args.length > 1 ? Integer.parseInt(args[1]) : 10_000, System.out);
      System.exit(0);
    }
    BenchOptions options;
    try {
      options = BenchOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("fanout-bench: " + e.getMessage());
      System.err.print(BenchOptions.USAGE);
      System.exit(2);
      return;
    }
    if (options.help()) {
      System.out.print(BenchOptions.USAGE);
      return;
    }
    run(options, System.out);
    System.exit(0);
  }

  /** Runs every workload the options name, printing progress and tables, and returns results. */
  static List<Results> run(BenchOptions options, PrintStream out) throws Exception {
    Thread deadline = new Thread(() -> {
      try {
        Thread.sleep(options.maxMinutes() * 60_000L);
      } catch (InterruptedException e) {
        return;
      }
      System.err.println("fanout-bench: --max-minutes=" + options.maxMinutes() + " reached");
      Runtime.getRuntime().halt(4);
    }, "bench-deadline");
    deadline.setDaemon(true);
    deadline.start();
    try {
      return runWorkloads(options, out);
    } finally {
      deadline.interrupt();
    }
  }

  private static List<Results> runWorkloads(BenchOptions options, PrintStream out)
      throws Exception {
    Path logDir = options.logDir() != null ? Files.createDirectories(options.logDir())
        : Files.createTempDirectory("fanout-bench-");
    if (options.jfrDir() != null) {
      Files.createDirectories(options.jfrDir());
    }
    int capacity = Capacity.clients(out);
    out.println("driver java " + Runtime.version() + ", server java "
        + serverVersion(options.serverJava()) + ", " + Runtime.getRuntime().availableProcessors()
        + " cores; server logs in " + logDir);
    out.println("server JVM options: " + String.join(" ", options.serverJvmArgs())
        + "; JDK transport writers: " + options.writers() + "; baseline: "
        + options.baselineServer() + ", " + options.baselineThreads() + " threads");

    List<String> servers = new ArrayList<>();
    if (options.baseline()) {
      servers.add("baseline");
    }
    servers.addAll(options.transports());

    List<Workload> workloads = workloads(options, capacity, out);
    List<Runnable> tables = new ArrayList<>();
    List<Results> everything = new ArrayList<>();
    Report report = new Report(out);
    try (AuthServer auth = new AuthServer()) {
      Bench bench = new Bench(options, auth, logDir, out);
      for (Workload workload : workloads) {
        List<List<Results>> rounds = new ArrayList<>();
        for (int round = 1; round <= options.rounds(); round++) {
          List<Results> results = new ArrayList<>();
          for (String server : servers) {
            results.add(bench.run(server, workload, round));
          }
          String label = options.rounds() > 1
              ? ", round " + round + " of " + options.rounds() : "";
          report.print(workload, label, results);
          tables.add(() -> report.print(workload, label, results));
          rounds.add(results);
          everything.addAll(results);
        }
        if (rounds.size() > 1) {
          report.rounds(workload, rounds);
          tables.add(() -> report.rounds(workload, rounds));
        }
      }
    }

    if (tables.size() > 1) {
      out.println();
      out.println("==================== all tables ====================");
      tables.forEach(Runnable::run);
    }
    return everything;
  }

  private static List<Workload> workloads(BenchOptions options, int capacity, PrintStream out) {
    List<Workload> all = new ArrayList<>();
    for (String kind : options.workloads()) {
      switch (kind) {
        case "broadcast", "binary" -> {
          boolean sse = kind.equals("broadcast");
          int body = sse ? options.bodyBytes() : options.binaryBodyBytes();
          for (int clients : options.clients()) {
            all.add(new Workload(kind, sse, capped(clients, capacity, out), 1, 1, body));
          }
        }
        case "spread" -> all.add(new Workload("spread", true,
            capped(options.spreadClients(), capacity - options.spreadUrls(), out),
            options.spreadUrls(), options.spreadUrlsPerClient(), options.bodyBytes()));
        default -> all.add(new Workload("idle", true, capped(options.idleClients(), capacity, out),
            1, 1, options.bodyBytes()));
      }
    }
    return all;
  }

  private static int capped(int clients, int capacity, PrintStream out) {
    if (clients <= capacity) {
      return clients;
    }
    out.printf("only %,d clients fit in the file descriptor limit and port range; %,d asked%n",
        capacity, clients);
    return capacity;
  }

  private static String serverVersion(String java) {
    try {
      Process process = new ProcessBuilder(java, "-version").redirectErrorStream(true).start();
      String text = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      process.waitFor();
      String[] lines = text.split("\n");
      return lines.length > 1 ? lines[1].trim() : text.trim();
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }
}
