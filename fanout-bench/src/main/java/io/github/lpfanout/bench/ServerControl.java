package io.github.lpfanout.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntSupplier;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;

/**
 * The control side of a server process that the driver started: it reads one command a line from
 * stdin and answers each with one line on stdout. The process ends when told to, when stdin
 * closes (the driver went away), or when its lifetime runs out, so that no run leaves it behind.
 *
 * <ul>
 *   <li>{@code STATS}: {@code STATS cpu=<process CPU ns> jit=<CPU ns of the JIT compiler's
 *       threads> heap=<used heap bytes> peak=<peak used heap bytes> threads=<live platform
 *       threads> rss=<resident bytes> clients=<n>}
 *   <li>{@code GC}: collects the heap until it stops shrinking, then answers as {@code STATS}
 *   <li>{@code JFR <file>}: starts a flight recording with the {@code profile} settings, to be
 *       written to {@code file}; answers as {@code STATS}
 *   <li>{@code JFR-STOP}: writes and ends that recording; answers as {@code STATS}
 *   <li>{@code QUIT}: closes the server and answers {@code BYE}
 * </ul>
 */
final class ServerControl {

  private ServerControl() {}

  /** Prints {@code READY <port>}, then serves commands until told to stop. Never returns. */
  static void serve(int port, IntSupplier clients, Runnable close, long maxSeconds) {
    Thread reaper = new Thread(() -> {
      try {
        Thread.sleep(maxSeconds * 1000);
      } catch (InterruptedException e) {
        return;
      }
      System.err.println("server process reached its lifetime of " + maxSeconds + " s; exiting");
      Runtime.getRuntime().halt(3);
    }, "bench-lifetime");
    reaper.setDaemon(true);
    reaper.start();

    System.out.println("READY " + port);
    System.out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
    try {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        switch (line.trim()) {
          case "STATS" -> answer(stats(clients));
          case "GC" -> {
            collect();
            answer(stats(clients));
          }
          case "JFR-STOP" -> {
            stopRecording();
            answer(stats(clients));
          }
          case "QUIT" -> {
            close.run();
            answer("BYE");
            System.exit(0);
          }
          default -> {
            if (line.startsWith("JFR ")) {
              startRecording(Path.of(line.substring(4).trim()));
              answer(stats(clients));
            } else {
              answer("ERROR unknown command " + line);
            }
          }
        }
      }
    } catch (IOException e) {
      System.err.println("control input failed: " + e);
    }
    close.run();
    System.exit(0);
  }

  private static Recording recording;

  private static void startRecording(Path file) throws IOException {
    try {
      recording = new Recording(Configuration.getConfiguration("profile"));
    } catch (java.text.ParseException e) {
      throw new IOException("cannot read the JFR profile settings", e);
    }
    recording.setDestination(file);
    recording.start();
  }

  private static void stopRecording() {
    if (recording != null) {
      recording.stop();
      recording.close();
      recording = null;
    }
  }

  private static void answer(String line) {
    System.out.println(line);
    System.out.flush();
  }

  private static String stats(IntSupplier clients) {
    var os = (com.sun.management.OperatingSystemMXBean)
        ManagementFactory.getOperatingSystemMXBean();
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    int threads = ManagementFactory.getThreadMXBean().getThreadCount();
    return "STATS cpu=" + os.getProcessCpuTime() + " jit=" + compilerNanos() + " heap=" + heap
        + " peak=" + peak
        + " threads=" + threads + " rss=" + residentBytes() + " clients=" + clients.getAsInt();
  }

  private static void collect() {
    long before = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      if (used >= before - 64 * 1024) {
        return;
      }
      before = used;
    }
  }

  /**
   * CPU time of the JIT compiler's threads, which {@code ThreadMXBean} does not list, from {@code
   * /proc/self/task} (in clock ticks, taken as the usual 100 a second); 0 where that is not there.
   */
  private static long compilerNanos() {
    long ticks = 0;
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
      for (Path task : tasks) {
        String stat;
        try {
          stat = Files.readString(task.resolve("stat"));
        } catch (IOException threadEnded) {
          continue;
        }
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        // The kernel keeps 15 characters of "C2 CompilerThread0".
        if (open < 0 || close < open || !stat.substring(open + 1, close).contains("CompilerThre")) {
          continue;
        }
        // After the name: state, then 10 fields, then user and system time.
        String[] fields = stat.substring(close + 2).split(" ");
        ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      }
    } catch (IOException | RuntimeException e) {
      return 0;
    }
    return ticks * 10_000_000L;
  }

  private static long residentBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}
