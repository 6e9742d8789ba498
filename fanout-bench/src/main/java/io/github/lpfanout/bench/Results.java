package io.github.lpfanout.bench;

import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;

/** What one server did under one workload. */
final class Results {

  /**
   * One measured window at one rate.
   *
   * @param rate messages per second offered on each topic
   * @param offered deliveries per second offered: rate times topics times readers per topic
   * @param delivered whole frames read by clients per second
   * @param sentRate messages per second the upstream or feed actually wrote, all topics
   * @param latency frame latency in microseconds
   * @param cpuPerMillion CPU seconds of the server process per million deliveries, not counting
   *     the JIT compiler's threads
   * @param jitCores cores the JIT compiler's threads kept busy during the window
   * @param gaps messages a client never received although later ones arrived, after its second
   *     frame
   * @param joinGaps the same between a client's first frame and its second; see {@link
   *     LoadClient#joinGaps()}
   * @param lost clients whose stream ended during the window
   * @param held whether the rate was held: sent and delivered in full (95% or more), p99 within
   *     the limit, no client lost
   */
  record Step(double rate, double offered, double delivered, double sentRate, Histogram latency,
      double cpuPerMillion, double jitCores, long gaps, long joinGaps, int lost, boolean held) {

    double p99Millis() {
      return latency.getValueAtPercentile(99) / 1000.0;
    }
  }

  final String server;
  final Workload workload;
  int established;
  int failed;
  double admissionRate;
  Histogram admissionMicros;
  ServerProcess.Stats empty;
  ServerProcess.Stats connected;
  ServerProcess.Stats end;
  /** Cores the server kept busy while its clients were idle, not counting the JIT compiler. */
  double idleCpuFraction = Double.NaN;
  final List<Step> steps = new ArrayList<>();
  String error;

  Results(String server, Workload workload) {
    this.server = server;
    this.workload = workload;
  }

  /** Heap the connected clients retain, per client, after a full collection. */
  double heapPerClient() {
    return established == 0 || empty == null || connected == null ? Double.NaN
        : (double) (connected.heapBytes() - empty.heapBytes()) / established;
  }

  /** Resident memory the connected clients add, per client. */
  double rssPerClient() {
    return established == 0 || empty == null || connected == null ? Double.NaN
        : (double) (connected.rssBytes() - empty.rssBytes()) / established;
  }

  /** The held step with the most deliveries per second, or null if none was held. */
  Step best() {
    Step best = null;
    for (Step step : steps) {
      if (step.held() && (best == null || step.delivered() > best.delivered())) {
        best = step;
      }
    }
    return best;
  }

  /** The last held measurement at {@code offered} deliveries per second, or null. */
  Step at(double offered) {
    Step found = null;
    for (Step step : steps) {
      if (Math.abs(step.offered() - offered) < 0.5 && (found == null || step.held())) {
        found = step;
      }
    }
    return found;
  }
}
