package io.github.lpfanout.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class ReportTest {
  private static final Workload BROADCAST = new Workload("broadcast", true, 10_000, 1, 1, 1024);
  private static final double NONE = Double.NaN;

  @Test
  void eachTransportIsSetAgainstTheBaselineOfItsOwnRound() {
    List<List<Results>> rounds = List.of(
        List.of(server("baseline", step(2.5, 100), step(5, 100)),
            server("jdk", step(2.5, 120), step(5, 200), step(7.5, 90))),
        List.of(server("baseline", step(2.5, 80), step(5, 200)),
            server("jdk", step(2.5, 100), step(5, 100))));

    List<Report.RoundRatios> rows = Report.roundRatios(rounds);

    assertEquals(4, rows.size());
    assertRow(rows.get(0), "jdk", 2.5, new double[] {1.2, 1.25}, 1.225);
    assertRow(rows.get(1), "jdk", 5, new double[] {2.0, 0.5}, 1.25);
    // The baseline measured no step at 7.5 msg/s, so there is nothing to set it against.
    assertRow(rows.get(2), "jdk", 7.5, new double[] {NONE, NONE}, NONE);
    // Best held: jdk 7.5 msg/s against 5 in round 1, 5 against 5 in round 2.
    assertRow(rows.get(3), "jdk", NONE, new double[] {1.5, 1.0}, 1.25);
  }

  @Test
  void aRoundWithoutTheTransportCountsForNothingInTheMedian() {
    List<List<Results>> rounds = List.of(
        List.of(server("baseline", step(2.5, 100)), server("jetty", step(2.5, 300))),
        List.of(server("baseline", step(2.5, 100))),
        List.of(server("baseline", step(2.5, 100)), server("jetty", step(2.5, 110))),
        List.of(server("baseline", step(2.5, 100)), server("jetty", step(2.5, 120))));

    Report.RoundRatios p99 = Report.roundRatios(rounds).get(0);

    assertRow(p99, "jetty", 2.5, new double[] {3.0, NONE, 1.1, 1.2}, 1.2);
  }

  @Test
  void withoutABaselineThereIsNothingToCompare() {
    List<List<Results>> rounds = List.of(List.of(server("jdk", step(2.5, 100))),
        List.of(server("jdk", step(2.5, 90))));

    assertEquals(List.of(), Report.roundRatios(rounds));
  }

  @Test
  void theRoundsTableNamesEveryRoundAndTheMedian() {
    List<List<Results>> rounds = List.of(
        List.of(server("baseline", step(2.5, 100)), server("jdk", step(2.5, 150))),
        List.of(server("baseline", step(2.5, 100)), server("jdk", step(2.5, 130))));
    ByteArrayOutputStream printed = new ByteArrayOutputStream();

    new Report(new PrintStream(printed, true, StandardCharsets.UTF_8)).rounds(BROADCAST, rounds);

    String table = printed.toString(StandardCharsets.UTF_8);
    assertTrue(table.contains("2 rounds, each transport against its own round's baseline"), table);
    assertTrue(table.matches("(?s).*jdk +p99/base +2\\.5 +1\\.50 +1\\.30 +1\\.40\\n.*"), table);
    assertTrue(table.matches("(?s).*jdk +best/base +1\\.00 +1\\.00 +1\\.00\\n.*"), table);
  }

  @Test
  void theMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
    assertEquals(2.5, Report.median(new double[] {4, 1, 3, 2}));
    assertEquals(3.0, Report.median(new double[] {5, NONE, 1, 3}));
    assertTrue(Double.isNaN(Report.median(new double[] {NONE})));
  }

  private static void assertRow(Report.RoundRatios row, String server, double rate,
      double[] byRound, double median) {
    assertEquals(server, row.server());
    assertEquals(rate, row.rate());
    assertArrayEquals(byRound, row.byRound(), 0.01);
    assertEquals(median, row.median(), 0.01);
  }

  private static Results server(String name, Results.Step... steps) {
    Results results = new Results(name, BROADCAST);
    results.steps.addAll(List.of(steps));
    return results;
  }

  /** A step held at {@code rate} msg/s to 10,000 clients whose every frame took {@code p99}. */
  private static Results.Step step(double rate, long p99Millis) {
    Histogram latency = new Histogram(5);
    latency.recordValue(p99Millis * 1000);
    double offered = rate * 10_000;
    return new Results.Step(rate, offered, offered, rate, latency, 5, 0, 0, 0, 0, true);
  }
}
