package io.github.lpfanout.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A server the driver runs in a process of its own, so that its CPU time and heap are its own: the
 * proxy under one transport, or the baseline. Talks to it through {@link ServerControl}.
 */
final class ServerProcess implements AutoCloseable {

  /**
   * What a server process reports about itself.
   *
   * @param cpuNanos CPU time of the whole process
   * @param jitNanos the part of it spent by the JIT compiler's threads, 0 where not known
   */
  record Stats(long cpuNanos, long jitNanos, long heapBytes, long peakHeapBytes, int threads,
      long rssBytes, int clients) {

    static Stats parse(String line) {
      Map<String, Long> values = new HashMap<>();
      for (String part : line.split(" ")) {
        int equals = part.indexOf('=');
        if (equals > 0) {
          values.put(part.substring(0, equals), Long.parseLong(part.substring(equals + 1)));
        }
      }
      return new Stats(values.get("cpu"), values.get("jit"), values.get("heap"), values.get("peak"),
          values.get("threads").intValue(), values.get("rss"), values.get("clients").intValue());
    }

    /** CPU time the process spent since {@code earlier}, without the JIT compiler's threads. */
    long serverNanosSince(Stats earlier) {
      return (cpuNanos - jitNanos) - (earlier.cpuNanos - earlier.jitNanos);
    }

    /** CPU time the JIT compiler's threads spent since {@code earlier}. */
    long jitNanosSince(Stats earlier) {
      return jitNanos - earlier.jitNanos;
    }
  }

  private final String name;
  private final Process process;
  private final PrintStream commands;
  private final BlockingQueue<String> answers = new ArrayBlockingQueue<>(64);
  private final int port;
  /** Set once the process's stdout has closed: it ended, and nothing more will be answered. */
  private volatile boolean ended;

  private ServerProcess(String name, Process process, int readyTimeoutSeconds)
      throws IOException, InterruptedException {
    this.name = name;
    this.process = process;
    this.commands = new PrintStream(process.getOutputStream(), true, StandardCharsets.US_ASCII);
    Thread reader = new Thread(this::readAnswers, "bench-control-" + name);
    reader.setDaemon(true);
    reader.start();

    String ready = answers.poll(readyTimeoutSeconds, TimeUnit.SECONDS);
    if (ready == null || !ready.startsWith("READY ")) {
      process.destroyForcibly();
      throw new IOException(name + " did not start (" + ready + "); see its log");
    }
    this.port = Integer.parseInt(ready.substring("READY ".length()).trim());
  }

  /**
   * Starts {@code mainClass} of this benchmark's class path on {@code java}, its stderr appended
   * to {@code log}, and waits until it listens.
   */
  static ServerProcess start(String name, String java, List<String> jvmArgs, Class<?> mainClass,
      List<String> args, Path log) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(java);
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return new ServerProcess(name, builder.start(), 60);
  }

  int port() {
    return port;
  }

  long pid() {
    return process.pid();
  }

  Stats stats() throws IOException, InterruptedException {
    return Stats.parse(ask("STATS", 30));
  }

  /** Collects the server's heap until it stops shrinking, then reports. */
  Stats collect() throws IOException, InterruptedException {
    return Stats.parse(ask("GC", 60));
  }

  /** Starts a flight recording of the server, written to {@code file} when it is stopped. */
  void startRecording(Path file) throws IOException, InterruptedException {
    ask("JFR " + file.toAbsolutePath(), 30);
  }

  void stopRecording() throws IOException, InterruptedException {
    ask("JFR-STOP", 60);
  }

  private String ask(String command, int timeoutSeconds) throws IOException, InterruptedException {
    answers.clear();
    if (ended) {
      throw new IOException(name + " has ended; see its log");
    }
    commands.println(command);
    String answer = answers.poll(timeoutSeconds, TimeUnit.SECONDS);
    if (answer == null || answer.startsWith("ERROR")) {
      throw new IOException(name + " did not answer " + command + ": " + answer);
    }
    return answer;
  }

  private void readAnswers() {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        // The JVM may print on stdout too (JFR does when it starts); only answers count.
        if (line.matches("(READY|STATS|BYE|ERROR)( .*)?")) {
          answers.offer(line);
        }
      }
    } catch (IOException e) {
      answers.offer("ERROR " + e);
    } finally {
      // Whoever waits for an answer, even READY, hears at once that none will come.
      ended = true;
      answers.offer("ERROR the process ended");
    }
  }

  /** Asks the server to stop, and ends the process if it has not within a few seconds. */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      commands.println("QUIT");
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    }
  }
}
