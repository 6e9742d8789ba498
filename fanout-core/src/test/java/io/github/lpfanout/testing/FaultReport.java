package io.github.lpfanout.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The figures of a fault-injection run: for each fault, how often it was injected and what healthy
 * clients got meanwhile. A fault test calls {@link #record} once it knows its figures, before it
 * asserts on them, so that a loss shows in the table even when the test fails.
 *
 * <p>{@link FaultReportListener}, registered with the JUnit Platform, prints the table once at the
 * end of the test run of a module and writes it to {@code target/fault-report.txt}; a run that
 * recorded nothing prints nothing. Rows of the same fault are added up. Thread-safe.
 */
public final class FaultReport {
  private static final Map<String, Row> rows = new LinkedHashMap<>();

  private FaultReport() {}

  /** The figures of one fault. {@code lost} is what healthy clients were owed and did not get. */
  public record Row(String fault, int injected, int deliveredToHealthy, int expected) {
    public int lost() {
      return Math.max(0, expected - deliveredToHealthy);
    }

    Row plus(Row other) {
      return new Row(fault, injected + other.injected,
          deliveredToHealthy + other.deliveredToHealthy, expected + other.expected);
    }
  }

  /**
   * Records one test's figures.
   *
   * @param fault what was injected, in a few words ("connection refused")
   * @param injected how many times it was injected (bad connections, answers or calls)
   * @param deliveredToHealthy messages healthy clients received while it lasted
   * @param expected messages healthy clients were owed over the same time
   */
  public static synchronized void record(
      String fault, int injected, int deliveredToHealthy, int expected) {
    rows.merge(fault, new Row(fault, injected, deliveredToHealthy, expected), Row::plus);
  }

  /** Whether anything was recorded in this JVM. */
  public static synchronized boolean isEmpty() {
    return rows.isEmpty();
  }

  /** The table of everything recorded so far, as fixed-width text, with a total row. */
  public static synchronized String table() {
    int width = "fault".length();
    for (String fault : rows.keySet()) {
      width = Math.max(width, fault.length());
    }
    String format = "%-" + width + "s  %8s  %18s  %8s  %4s%n";

    StringBuilder table = new StringBuilder();
    table.append(String.format(format, "fault", "injected", "healthy delivered", "expected",
        "lost"));
    Row total = new Row("total", 0, 0, 0);
    for (Row row : rows.values()) {
      table.append(line(format, row));
      total = total.plus(row);
    }
    table.append(line(format, total));
    return table.toString();
  }

  private static String line(String format, Row row) {
    return String.format(format, row.fault(), row.injected(), row.deliveredToHealthy(),
        row.expected(), row.lost());
  }

  /** Prints the table to standard output and writes it under {@code target/}, if it exists. */
  static synchronized void publish() {
    if (rows.isEmpty()) {
      return;
    }
    String report = "Fault injection report\n" + table();
    System.out.print(report);

    Path target = Path.of("target");
    if (Files.isDirectory(target)) {
      try {
        Files.writeString(target.resolve("fault-report.txt"), report, StandardCharsets.UTF_8);
      } catch (IOException e) {
        System.out.println("Could not write target/fault-report.txt: " + e);
      }
    }
  }
}
