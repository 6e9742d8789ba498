package io.github.lpfanout.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** How many client connections this machine lets one run open, from its limits. */
final class Capacity {
  /** Descriptors a process keeps for everything but client connections. */
  private static final int RESERVE = 1500;

  private Capacity() {}

  /**
   * The most clients one workload may connect: each takes a descriptor in the driver and one in
   * the server (both inherit this process's limit) and an ephemeral loopback port.
   */
  static int clients(PrintStream out) {
    long files = openFilesLimit();
    long ports = ephemeralPorts();
    out.printf("limits: %s open files per process, %s ephemeral ports%n",
        files < 0 ? "unknown" : String.format("%,d", files),
        ports < 0 ? "unknown" : String.format("%,d", ports));
    long capacity = Long.MAX_VALUE;
    if (files > 0) {
      capacity = Math.min(capacity, files - RESERVE);
    }
    if (ports > 0) {
      capacity = Math.min(capacity, ports - RESERVE);
    }
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, capacity));
  }

  private static long openFilesLimit() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          return Long.parseLong(line.substring("Max open files".length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  private static long ephemeralPorts() {
    try {
      // Read by lines: Files.readString trusts the zero size that /proc reports.
      String[] range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
          .get(0).trim().split("\\s+");
      return Long.parseLong(range[1]) - Long.parseLong(range[0]) + 1;
    } catch (IOException | NumberFormatException | IndexOutOfBoundsException e) {
      return -1;
    }
  }
}
