package io.github.lpfanout.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;
import java.util.function.IntFunction;

/**
 * Prints one workload's results as tables: every measured step of every server, then a summary
 * that sets each transport beside the baseline measured in the same run. With several rounds, a
 * last table sets each transport against the baseline of its own round.
 */
final class Report {
  private final PrintStream out;

  Report(PrintStream out) {
    this.out = out;
  }

  /** Prints one round's tables, {@code label} after the workload's title ("" for one round). */
  void print(Workload workload, String label, List<Results> all) {
    out.println();
    out.println("== " + workload.title() + label);
    Results baseline = baseline(all);
    for (Results results : all) {
      if (results.error != null) {
        out.printf("%-10s failed: %s%n", results.server, results.error);
      }
    }
    if (workload.kind().equals("idle")) {
      idle(all);
    } else {
      steps(all, baseline);
      summary(all, baseline);
    }
    out.flush();
  }

  private void steps(List<Results> all, Results baseline) {
    out.printf("%-10s %8s %11s %11s %8s %8s %9s %8s %8s %6s %9s %5s%n", "server", "msg/s",
        "offered/s", "delivered/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "cpu s/M", "jit %",
        "p99/base", "held");
    for (Results results : all) {
      for (Results.Step step : results.steps) {
        Results.Step base = baseline == null || results == baseline ? null
            : baseline.at(step.offered());
        out.printf("%-10s %8s %,11.0f %,11.0f %8.2f %8.2f %9.2f %8.1f %8.2f %6.1f %9s %5s%s%n",
            results.server, rate(step.rate()), step.offered(), step.delivered(),
            millis(step, 50), millis(step, 99), millis(step, 99.9),
            step.latency().getMaxValue() / 1000.0, step.cpuPerMillion(), 100 * step.jitCores(),
            base == null ? "" : String.format("%.2f", step.p99Millis() / base.p99Millis()),
            step.held() ? "yes" : "no", losses(step));
      }
    }
    out.println();
  }

  private void summary(List<Results> all, Results baseline) {
    out.printf("%-10s %10s %11s %11s %8s %9s %11s %8s %9s %9s %8s%n", "server", "admitted/s",
        "heap/client", "rss/client", "threads", "best msg/s", "delivered/s", "vs base",
        "p99 ms", "base p99", "vs base");
    Results.Step baseBest = baseline == null ? null : baseline.best();
    for (Results results : all) {
      Results.Step best = results.best();
      Results.Step baseSame = best == null || baseline == null ? null
          : baseline.at(best.offered());
      out.printf("%-10s %,10.0f %11s %11s %8s %9s %,11.0f %8s %9s %9s %8s%n",
          results.server, results.admissionRate, bytes(results.heapPerClient()),
          bytes(results.rssPerClient()),
          results.connected == null ? "" : String.format("%,d", results.connected.threads()),
          best == null ? "none" : rate(best.rate()), best == null ? 0.0 : best.delivered(),
          ratio(best == null || baseBest == null ? Double.NaN
              : best.delivered() / baseBest.delivered()),
          best == null ? "" : String.format("%.2f", best.p99Millis()),
          baseSame == null ? "" : String.format("%.2f", baseSame.p99Millis()),
          ratio(best == null || baseSame == null ? Double.NaN
              : best.p99Millis() / baseSame.p99Millis()));
    }
  }

  /**
   * Prints, for each transport and rate, its p99 over the baseline's of the same round, and for
   * its best rate held its deliveries per second over the baseline's best of that round, with
   * the median over the rounds. A round's servers run minutes apart, so on a machine whose speed
   * drifts these ratios carry better than those between servers measured far apart. Nothing for
   * the idle workload, or without a baseline.
   */
  void rounds(Workload workload, List<List<Results>> rounds) {
    if (workload.kind().equals("idle")) {
      return;
    }
    List<RoundRatios> rows = roundRatios(rounds);
    if (rows.isEmpty()) {
      return;
    }
    out.println();
    out.printf("== %s: %d rounds, each transport against its own round's baseline%n",
        workload.title(), rounds.size());
    out.printf("%-10s %-9s %8s %s %8s%n", "server", "ratio", "msg/s",
        cells(rounds.size(), i -> String.format("%7s", "round " + (i + 1))), "median");
    for (RoundRatios row : rows) {
      out.printf("%-10s %-9s %8s %s %8s%n", row.server(),
          row.best() ? "best/base" : "p99/base",
          row.best() ? "" : rate(row.rate()),
          cells(rounds.size(), i -> String.format("%7s", ratio(row.byRound()[i]))),
          ratio(row.median()));
    }
    out.flush();
  }

  /**
   * One transport's ratios to the baseline, one per round (NaN where either was not measured):
   * p99 at {@code rate} msg/s, or, where {@code rate} is NaN, deliveries per second at the best
   * rate held over the baseline's.
   */
  record RoundRatios(String server, double rate, double[] byRound) {
    /** Whether this row sets best rates held against each other rather than p99 at a rate. */
    boolean best() {
      return Double.isNaN(rate);
    }

    /** The median over the rounds where both were measured. */
    double median() {
      return Report.median(byRound);
    }
  }

  /** Every transport's ratios to its round's baseline, in the order of the first round. */
  static List<RoundRatios> roundRatios(List<List<Results>> rounds) {
    List<RoundRatios> rows = new ArrayList<>();
    if (rounds.isEmpty() || baseline(rounds.get(0)) == null) {
      return rows;
    }
    for (Results first : rounds.get(0)) {
      if (first.server.equals("baseline")) {
        continue;
      }
      TreeMap<Double, Double> rates = new TreeMap<>();
      for (List<Results> round : rounds) {
        Results results = server(round, first.server);
        for (Results.Step step : results == null ? List.<Results.Step>of() : results.steps) {
          rates.putIfAbsent(step.offered(), step.rate());
        }
      }
      rates.forEach((offered, rate) -> rows.add(row(first.server, rate, rounds, (mine, base) -> {
        Results.Step step = mine.at(offered);
        Results.Step baseStep = base.at(offered);
        return step == null || baseStep == null ? Double.NaN
            : step.p99Millis() / baseStep.p99Millis();
      })));
      rows.add(row(first.server, Double.NaN, rounds, (mine, base) -> {
        Results.Step best = mine.best();
        Results.Step baseBest = base.best();
        return best == null || baseBest == null ? Double.NaN
            : best.delivered() / baseBest.delivered();
      }));
    }
    return rows;
  }

  private interface Ratio {
    double of(Results mine, Results baseline);
  }

  private static RoundRatios row(String server, double rate, List<List<Results>> rounds,
      Ratio ratio) {
    double[] byRound = new double[rounds.size()];
    for (int i = 0; i < byRound.length; i++) {
      Results mine = server(rounds.get(i), server);
      Results base = baseline(rounds.get(i));
      byRound[i] = mine == null || base == null ? Double.NaN : ratio.of(mine, base);
    }
    return new RoundRatios(server, rate, byRound);
  }

  /** The median of the values that are not NaN; NaN if there are none. */
  static double median(double[] values) {
    double[] present = Arrays.stream(values).filter(v -> !Double.isNaN(v)).sorted().toArray();
    if (present.length == 0) {
      return Double.NaN;
    }
    int middle = present.length / 2;
    return present.length % 2 == 1 ? present[middle]
        : (present[middle - 1] + present[middle]) / 2;
  }

  private static Results baseline(List<Results> round) {
    return server(round, "baseline");
  }

  private static Results server(List<Results> round, String server) {
    return round.stream().filter(r -> r.server.equals(server)).findFirst().orElse(null);
  }

  private static String cells(int count, IntFunction<String> cell) {
    StringBuilder cells = new StringBuilder();
    for (int i = 0; i < count; i++) {
      cells.append(i == 0 ? "" : " ").append(cell.apply(i));
    }
    return cells.toString();
  }

  private void idle(List<Results> all) {
    out.printf("%-10s %8s %10s %11s %11s %11s %8s %9s%n", "server", "clients", "admitted/s",
        "heap/client", "heap total", "rss/client", "threads", "idle cpu");
    for (Results results : all) {
      long total = results.connected == null || results.empty == null ? 0
          : results.connected.heapBytes() - results.empty.heapBytes();
      out.printf("%-10s %,8d %,10.0f %11s %11s %11s %8s %8.1f%%%n", results.server,
          results.established, results.admissionRate, bytes(results.heapPerClient()),
          bytes(total), bytes(results.rssPerClient()),
          results.connected == null ? "" : String.format("%,d", results.connected.threads()),
          results.idleCpuFraction * 100);
    }
  }

  private static String losses(Results.Step step) {
    if (step.lost() == 0 && step.gaps() == 0 && step.joinGaps() == 0) {
      return "";
    }
    return String.format("  (%d clients lost, %d frames missing, %d at a client's second frame)",
        step.lost(), step.gaps(), step.joinGaps());
  }

  private static double millis(Results.Step step, double percentile) {
    return step.latency().getValueAtPercentile(percentile) / 1000.0;
  }

  private static String rate(double rate) {
    return rate >= 100 ? String.format("%,.0f", rate) : String.format("%.1f", rate);
  }

  private static String ratio(double ratio) {
    return Double.isNaN(ratio) ? "" : String.format("%.2f", ratio);
  }

  static String bytes(double bytes) {
    if (Double.isNaN(bytes)) {
      return "";
    }
    if (Math.abs(bytes) >= 1024 * 1024 * 10) {
      return String.format("%,.0f MiB", bytes / 1024 / 1024);
    }
    if (Math.abs(bytes) >= 1024) {
      return String.format("%,.1f KiB", bytes / 1024);
    }
    return String.format("%,.0f B", bytes);
  }
}
