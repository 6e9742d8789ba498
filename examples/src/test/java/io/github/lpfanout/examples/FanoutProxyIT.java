package io.github.lpfanout.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.SseRecorder;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Runs the packaged proxy jar as a user would: {@code java -jar fanout-proxy.jar}. */
class FanoutProxyIT {
  private final List<Process> processes = new ArrayList<>();
  private final OkHttpClient client = new OkHttpClient();

  @AfterEach
  void stopProcesses() {
    processes.forEach(Process::destroyForcibly);
    client.dispatcher().executorService().shutdownNow();
    client.connectionPool().evictAll();
  }

  private Process run(Path stderr, String... args) throws IOException {
    String jar = System.getProperty("fanout.proxy.jar", "target/fanout-proxy.jar");
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command)
        .redirectError(stderr.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .start();
    processes.add(process);
    return process;
  }

  @ParameterizedTest
  @ValueSource(strings = {"jdk", "jetty", "tomcat"})
  void demoModeServesTheClockToAnSseClientAndStopsCleanly(String transport) throws Exception {
    Path stderr = Files.createTempFile("fanout-proxy", ".log");
    Process proxy = run(stderr, "--port=0", "--transport=" + transport);
    BufferedReader out = new BufferedReader(
        new InputStreamReader(proxy.getInputStream(), StandardCharsets.UTF_8));

    String banner = out.readLine();
    assertTrue(banner.startsWith("fanout proxy listening on http://127.0.0.1:"), banner);
    assertTrue(banner.endsWith("(demo mode, " + transport + ")"), banner);
    String base = banner.split(" ")[4];
    String tryLine = out.readLine();
    String clock = base + "/demo/clock";
    assertEquals("Try:  curl -N " + base + "/sse/" + clock, tryLine);

    try (SseRecorder events = SseRecorder.connect(client, base + "/sse/" + clock)) {
      SseRecorder.Event first = events.next();
      SseRecorder.Event second = events.next();
      assertEquals(clock, first.type());
      Instant firstTime = Instant.parse(first.data());
      assertTrue(Instant.parse(second.data()).isAfter(firstTime), second.data());

      try (Response stats = client.newCall(
          new Request.Builder().url(base + "/stats").build()).execute()) {
        assertEquals(200, stats.code());
        assertEquals("application/json", stats.header("Content-Type"));
        assertTrue(stats.body().string().startsWith("{\"clients\":1,\"subscriptions\":1,"));
      }
    }

    proxy.destroy();
    assertTrue(proxy.waitFor(10, TimeUnit.SECONDS), "the proxy exits on SIGTERM");
    Await.until("the shutdown is logged",
        () -> read(stderr).contains("fanout proxy stopped"));
  }

  @Test
  void helpPrintsTheUsageAndExitsZero() throws Exception {
    Path stderr = Files.createTempFile("fanout-proxy", ".log");
    Process proxy = run(stderr, "--help");

    String usage = new String(proxy.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(proxy.waitFor(10, TimeUnit.SECONDS));
    assertEquals(0, proxy.exitValue());
    assertTrue(usage.contains("--auth_server=URL"), usage);
  }

  @Test
  void aBadFlagIsAOneLineErrorWithExitCode2() throws Exception {
    Path stderr = Files.createTempFile("fanout-proxy", ".log");
    Process proxy = run(stderr, "--prot=5000");

    assertTrue(proxy.waitFor(10, TimeUnit.SECONDS));
    assertEquals(2, proxy.exitValue());
    List<String> lines = Files.readAllLines(stderr);
    assertEquals(List.of("fanout-proxy: unknown option --prot (see --help)"), lines);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
