package io.github.lpfanout.bench;

import java.io.PrintStream;
import java.util.List;

/**
 * Prints one workload's results as tables: every measured step of every server, then a summary
 * that sets each transport beside the baseline measured in the same run.
 */
final class Report {
  private final PrintStream out;

  Report(PrintStream out) {
    this.out = out;
  }

  void print(Workload workload, List<Results> all) {
    out.println();
    out.println("== " + workload.title());
    Results baseline = all.stream().filter(r -> r.server.equals("baseline")).findFirst()
        .orElse(null);
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
