package io.github.lpfanout.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.WebSocket;
import okhttp3.WebSocketListener;

/**
 * A real headless Chromium (Debian's {@code chromium} package) showing one page, with just enough
 * of the DevTools protocol to evaluate JavaScript in it. Started with the flags that keep it from
 * reaching for the network on its own.
 */
final class HeadlessChromium implements AutoCloseable {
  private static final Pattern RESULT_VALUE =
      Pattern.compile("\"result\":\\{\"result\":\\{\"type\":\"string\","
          + "\"value\":\"((?:[^\"\\\\]|\\\\.)*)\"");

  private final Process process;
  private final Path profile;
  private final OkHttpClient client = new OkHttpClient();
  private final WebSocket devtools;
  private final AtomicInteger ids = new AtomicInteger();
  private final ConcurrentHashMap<Integer, CompletableFuture<String>> replies =
      new ConcurrentHashMap<>();

  private HeadlessChromium(Process process, Path profile, String pageSocketUrl) {
    this.process = process;
    this.profile = profile;
    this.devtools = client.newWebSocket(new Request.Builder().url(pageSocketUrl).build(),
        new WebSocketListener() {
          @Override
          public void onMessage(WebSocket socket, String text) {
            Matcher id = Pattern.compile("^\\{\"id\":(\\d+)").matcher(text);
            if (id.find()) {
              CompletableFuture<String> reply = replies.remove(Integer.parseInt(id.group(1)));
              if (reply != null) {
                reply.complete(text);
              }
            }
          }
        });
  }

  /** The browser binary: {@code $CHROMIUM}, else {@code /usr/bin/chromium}; null if absent. */
  static Path binary() {
    String configured = System.getenv("CHROMIUM");
    Path path = Path.of(configured != null ? configured : "/usr/bin/chromium");
    return Files.isExecutable(path) ? path : null;
  }

  /** Starts Chromium on {@code url} and connects to the page's DevTools socket. */
  static HeadlessChromium open(String url) throws Exception {
    Path profile = Files.createTempDirectory("fanout-chromium");
    Process process = new ProcessBuilder(List.of(
        binary().toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-default-apps", "--user-data-dir=" + profile,
        "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", url))
        .redirectErrorStream(true)
        .redirectOutput(profile.resolve("chromium.log").toFile())
        .start();

    Path portFile = profile.resolve("DevToolsActivePort");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Files.exists(portFile) || Files.readAllLines(portFile).isEmpty()) {
      if (System.nanoTime() > deadline || !process.isAlive()) {
        process.destroyForcibly();
        throw new AssertionError("Chromium did not start: "
            + Files.readString(profile.resolve("chromium.log")));
      }
      Thread.sleep(20);
    }
    int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
    return new HeadlessChromium(process, profile, pageSocket(port));
  }

  private static String pageSocket(int port) throws IOException {
    OkHttpClient http = new OkHttpClient();
    try (Response list = http.newCall(new Request.Builder()
        .url("http://127.0.0.1:" + port + "/json/list").build()).execute()) {
      String json = list.body().string();
      Matcher page = Pattern.compile(
          "\"type\":\\s*\"page\"[^}]*?\"webSocketDebuggerUrl\":\\s*\"([^\"]+)\"").matcher(json);
      if (!page.find()) {
        Matcher any = Pattern.compile("\"webSocketDebuggerUrl\":\\s*\"(ws://[^\"]+/page/[^\"]+)\"")
            .matcher(json);
        if (!any.find()) {
          throw new AssertionError("no page in " + json);
        }
        return any.group(1);
      }
      return page.group(1);
    } finally {
      http.dispatcher().executorService().shutdown();
    }
  }

  /** Evaluates {@code expression}, which must yield a string, and returns that string. */
  String evaluate(String expression, Duration timeout) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<String> reply = new CompletableFuture<>();
    replies.put(id, reply);
    String quoted = "\"" + expression.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    devtools.send("{\"id\":" + id + ",\"method\":\"Runtime.evaluate\",\"params\":"
        + "{\"expression\":" + quoted + ",\"returnByValue\":true}}");
    String text = reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    Matcher value = RESULT_VALUE.matcher(text);
    if (!value.find()) {
      throw new AssertionError("not a string result: " + text);
    }
    return unescape(value.group(1));
  }

  private static String unescape(String json) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (c != '\\') {
        out.append(c);
        continue;
      }
      char next = json.charAt(++i);
      switch (next) {
        case 'n' -> out.append('\n');
        case 't' -> out.append('\t');
        case 'r' -> out.append('\r');
        case 'u' -> {
          out.append((char) Integer.parseInt(json.substring(i + 1, i + 5), 16));
          i += 4;
        }
        default -> out.append(next);
      }
    }
    return out.toString();
  }

  @Override
  public void close() throws IOException {
    devtools.close(1000, null);
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
    deleteProfile();
  }

  /**
   * Deletes the browser's profile, best effort: Chromium's helper processes may still write or
   * remove files in it for a moment after the browser exits, so a walk that trips on one is simply
   * walked again.
   */
  private void deleteProfile() {
    for (int attempt = 0; attempt < 5 && Files.exists(profile); attempt++) {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      } catch (IOException | java.io.UncheckedIOException changedMeanwhile) {
        // Walk again.
      }
    }
  }
}
