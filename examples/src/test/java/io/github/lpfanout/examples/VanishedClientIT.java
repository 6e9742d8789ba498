package io.github.lpfanout.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.lpfanout.examples.VanishedClientProbe.Transport;
import io.github.lpfanout.testing.FaultReport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A client whose host vanishes without a FIN or RST (a pulled cable, a dead VM) is let go within
 * a bounded time by every transport of the proxy, and it is the heartbeat that finds it: the
 * heartbeat's bytes go unacknowledged, the kernel gives up retransmitting them after {@code
 * tcp_retries2} retries, and a later write fails. Without a heartbeat, the same client stays
 * subscribed. A healthy client beside it loses nothing meanwhile.
 *
 * <p>Making a host vanish takes a network of one's own: {@link VanishedClientProbe} runs in a
 * child JVM as root of a new user and network namespace ({@code unshare -Urn}), and reports what
 * it saw, one line per transport and heartbeat interval. The test is skipped, with the reason,
 * where {@code unshare} or {@code ip} is missing or the namespace cannot be set up.
 */
class VanishedClientIT {
  private static final Duration HEARTBEAT = Duration.ofSeconds(1);
  private static final int TCP_RETRIES2 = 3;
  /**
   * How long the kernel retransmits unacknowledged bytes before it gives up: the minimum
   * retransmission timeout on loopback, 200 ms, doubling at each of the {@code tcp_retries2}
   * retries: 200 + 400 + 800 + 1600 ms.
   */
  private static final Duration GIVE_UP = Duration.ofMillis(200L * ((2 << TCP_RETRIES2) - 1));
  /**
   * The longest a transport may take to let the vanished client go. It expects up to a heartbeat
   * interval before bytes go unacknowledged, the kernel's give-up, and up to another interval
   * before a write fails: about 5 s. The bound allows three times that for a slow machine, and
   * it is also how long the client without a heartbeat is watched.
   */
  private static final Duration BOUND = Duration.ofSeconds(15);

  /** One line of the probe's report. {@code letGoMillis} is -1 if the client was kept. */
  record Outcome(String transport, long heartbeatMillis, long letGoMillis, int healthyDelivered,
      int healthyExpected) {

    static Outcome parse(String line) {
      Map<String, String> fields = new HashMap<>();
      for (String field : line.substring(VanishedClientProbe.LINE_PREFIX.length()).split(" ")) {
        int equals = field.indexOf('=');
        fields.put(field.substring(0, equals), field.substring(equals + 1));
      }
      return new Outcome(fields.get("transport"), Long.parseLong(fields.get("heartbeat-ms")),
          Long.parseLong(fields.get("let-go-ms")),
          Integer.parseInt(fields.get("healthy-delivered")),
          Integer.parseInt(fields.get("healthy-expected")));
    }
  }

  private static final Map<String, Outcome> withHeartbeat = new LinkedHashMap<>();
  private static final Map<String, Outcome> withoutHeartbeat = new HashMap<>();
  /** Why the probe could not run here, or null. */
  private static String unavailable;

  @BeforeAll
  static void makeClientsVanish() throws Exception {
    unavailable = privateNamespaceUnavailable();
    List<String> report = unavailable == null ? runProbe() : List.of();
    if (!report.isEmpty() && report.get(0).startsWith("unavailable:")) {
      unavailable = report.get(0).substring("unavailable:".length()).strip();
    }
    if (unavailable != null) {
      System.out.println("VanishedClientIT: skipped, no private network namespace: " + unavailable);
      return;
    }

    for (String line : report) {
      if (line.startsWith(VanishedClientProbe.LINE_PREFIX)) {
        Outcome outcome = Outcome.parse(line);
        (outcome.heartbeatMillis() == HEARTBEAT.toMillis() ? withHeartbeat : withoutHeartbeat)
            .put(outcome.transport(), outcome);
      }
    }

    for (Outcome found : withHeartbeat.values()) {
      FaultReport.record("client vanished without FIN (" + found.transport() + ")", 1,
          found.healthyDelivered(), found.healthyExpected());
      Outcome kept = withoutHeartbeat.get(found.transport());
      System.out.printf("VanishedClientIT: %s let a vanished client go after %d ms (heartbeat "
          + "%d ms, tcp_retries2=%d); without a heartbeat it was %s after %d ms%n",
          found.transport(), found.letGoMillis(), HEARTBEAT.toMillis(), TCP_RETRIES2,
          kept == null ? "not reported" : kept.letGoMillis() < 0 ? "still subscribed" : "let go",
          BOUND.toMillis());
    }
  }

  /** Null if {@code unshare -Urn} can run {@code ip} in a new namespace, else why not. */
  private static String privateNamespaceUnavailable() throws InterruptedException {
    Process process;
    try {
      process = new ProcessBuilder("unshare", "-Urn", "ip", "link", "set", "lo", "up")
          .redirectErrorStream(true)
          .start();
    } catch (IOException e) {
      return "cannot run unshare: " + e.getMessage();
    }
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      return "unshare -Urn ip link set lo up did not finish";
    }
    String output;
    try {
      output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      output = e.toString();
    }
    return process.exitValue() == 0 ? null
        : "unshare -Urn ip link set lo up: " + output.strip().replace('\n', ' ');
  }

  /**
   * Runs the probe in a new namespace on this JVM's class path and returns what it printed,
   * failing with its log if it fails. Surefire's forked JVM reports the whole test class path in
   * {@code java.class.path}, not only its booter jar.
   */
  private static List<String> runProbe() throws Exception {
    Path target = Files.createDirectories(Path.of("target"));
    Path out = target.resolve("vanished-client-probe.out");
    Path log = target.resolve("vanished-client-probe.log");
    List<String> command = new ArrayList<>(List.of("unshare", "-Urn",
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), VanishedClientProbe.class.getName(),
        Long.toString(HEARTBEAT.toMillis()), Long.toString(BOUND.toMillis()),
        Integer.toString(TCP_RETRIES2)));
    Process probe = new ProcessBuilder(command)
        .redirectOutput(out.toFile())
        .redirectError(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();

    long limit = BOUND.plusSeconds(60).toSeconds();
    if (!probe.waitFor(limit, TimeUnit.SECONDS)) {
      probe.destroyForcibly();
      throw new AssertionError("the probe did not end within " + limit + " s; see " + log);
    }
    List<String> lines = Files.readAllLines(out);
    if (probe.exitValue() == VanishedClientProbe.UNAVAILABLE && !lines.isEmpty()) {
      return lines;
    }
    if (probe.exitValue() != 0 || lines.isEmpty()) {
      throw new AssertionError("the probe exited with " + probe.exitValue() + " after printing "
          + lines + "; its log " + log + " ends:\n" + tail(log));
    }
    return lines;
  }

  private static String tail(Path log) throws IOException {
    List<String> lines = Files.readAllLines(log);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
  }

  /**
   * Skips each test, rather than the class, where the probe cannot run: Surefire reports a class
   * skipped in {@code @BeforeAll} as no test at all, and drops the reason.
   */
  @BeforeEach
  void skipWithoutANamespace() {
    assumeTrue(unavailable == null, () -> "no private network namespace: " + unavailable);
  }

  private static Outcome outcome(Map<String, Outcome> outcomes, Transport transport) {
    Outcome outcome = outcomes.get(transport.name());
    assertTrue(outcome != null, "the probe reported nothing for " + transport);
    return outcome;
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void theHeartbeatFindsAVanishedClientOnceTheKernelGivesUpOnIt(Transport transport) {
    long letGo = outcome(withHeartbeat, transport).letGoMillis();

    assertTrue(letGo >= 0, "still subscribed " + BOUND.toMillis() + " ms after it vanished");
    assertTrue(letGo < BOUND.toMillis(), "let go after " + letGo + " ms");
    assertTrue(letGo >= GIVE_UP.toMillis(), "let go after " + letGo + " ms, sooner than the "
        + "kernel can give up on unacknowledged bytes: something else let it go");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void withoutAHeartbeatAVanishedClientStaysSubscribed(Transport transport) {
    assertEquals(-1, outcome(withoutHeartbeat, transport).letGoMillis(),
        "let go without a heartbeat, within " + BOUND.toMillis() + " ms");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aHealthyClientBesideAVanishedOneLosesNothing(Transport transport) {
    for (Outcome outcome : List.of(
        outcome(withHeartbeat, transport), outcome(withoutHeartbeat, transport))) {
      assertTrue(outcome.healthyExpected() > 0, "nothing was published: " + outcome);
      assertEquals(outcome.healthyExpected(), outcome.healthyDelivered(),
          "messages the healthy client got in order: " + outcome);
    }
  }
}
