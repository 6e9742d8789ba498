package io.github.lpfanout.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Starts the benchmark as the README's command does, at a size that takes seconds: the baseline
 * and every transport each serve a few clients one step of broadcast, and all are measured.
 */
class BenchSmokeTest {

  @Test
  @Timeout(90)
  void theHarnessMeasuresTheBaselineAndEveryTransport(@TempDir Path logs) throws Exception {
    Run run = run(logs, "--workloads=broadcast", "--clients=20", "--steps=1000",
        "--step-seconds=1", "--warmup-seconds=0.3", "--warmup-clients=40",
        "--transports=jdk,jetty,tomcat");

    String output = run.output();
    assertEquals(List.of("baseline", "jdk", "jetty", "tomcat"), run.servers(), output);
    for (Results result : run.results()) {
      assertNull(result.error, output);
      assertEquals(20, result.established, output);
      assertEquals(1, result.steps.size(), output);
      assertTrue(result.steps.get(0).delivered() > 0, output);
      assertTrue(result.steps.get(0).latency().getTotalCount() > 0, output);
    }
    assertTrue(output.contains("== broadcast: 20 sse clients on one URL"), output);
    assertTrue(output.contains("cpu s/M  jit %"), output);
  }

  @Test
  @Timeout(90)
  void roundsRunEveryServerInTurnAndKeepEachRoundsLog(@TempDir Path logs) throws Exception {
    Run run = run(logs, "--workloads=broadcast", "--clients=20", "--steps=1000",
        "--step-seconds=1", "--warmup-seconds=0.3", "--warmup-clients=40", "--transports=jdk",
        "--rounds=2");

    String output = run.output();
    assertEquals(List.of("baseline", "jdk", "baseline", "jdk"), run.servers(), output);
    for (Results result : run.results()) {
      assertNull(result.error, output);
      assertEquals(1, result.steps.size(), output);
    }
    assertTrue(output.contains("1,024-byte bodies, round 2 of 2"), output);
    assertTrue(output.contains("2 rounds, each transport against its own round's baseline"),
        output);
    for (String log : List.of("broadcast-20-jdk.log", "broadcast-20-jdk-round2.log",
        "broadcast-20-baseline-round2.log")) {
      assertTrue(Files.size(logs.resolve(log)) > 0, log);
    }
  }

  /** Also with frames larger than the buffer it reads the feed into, 1 MiB. */
  @ParameterizedTest
  @CsvSource({
    "jdk, 'baseline: the bare JDK HttpServer, 2 writer threads'",
    "jetty, 'baseline: bare Jetty, 2 writer threads'"
  })
  @Timeout(120)
  void aBareServerCanStandInForTheBaseline(String server, String startLine, @TempDir Path logs)
      throws Exception {
    Run run = run(logs, "--workloads=broadcast,spread,binary", "--clients=20", "--steps=1000",
        "--step-seconds=1", "--binary-steps=100", "--binary-body-bytes=1100000",
        "--spread-clients=20", "--spread-urls=10", "--spread-urls-per-client=3",
        "--spread-rate=5", "--spread-seconds=1", "--warmup-seconds=0.3", "--warmup-clients=40",
        "--transports=", "--baseline-server=" + server, "--baseline-threads=2");

    String output = run.output();
    assertTrue(output.contains("baseline: " + server + ", 2 threads"), output);
    assertEquals(List.of("baseline", "baseline", "baseline"), run.servers(), output);
    for (Results baseline : run.results()) {
      assertNull(baseline.error, output);
      assertEquals(20, baseline.established, output);
      Results.Step step = baseline.steps.get(0);
      assertTrue(step.delivered() > 0, output);
      assertEquals(0, step.gaps(), output);
      assertEquals(0, step.lost(), output);
    }
    for (String workload : List.of("broadcast-20", "spread-20", "binary-20")) {
      String log = Files.readString(logs.resolve(workload + "-baseline.log"));
      assertTrue(log.contains(startLine), log);
    }
  }

  /** What one run of the benchmark returned and printed. */
  private record Run(List<Results> results, String output) {
    List<String> servers() {
      return results.stream().map(r -> r.server).toList();
    }
  }

  /** Runs the benchmark with {@code flags}, its logs in {@code logs}, within two minutes. */
  private static Run run(Path logs, String... flags) throws Exception {
    List<String> args = new ArrayList<>(List.of(flags));
    args.add("--log-dir=" + logs);
    args.add("--max-minutes=2");
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    List<Results> results = FanoutBench.run(BenchOptions.parse(args.toArray(new String[0])),
        new PrintStream(printed, true, StandardCharsets.UTF_8));
    return new Run(results, printed.toString(StandardCharsets.UTF_8));
  }
}
