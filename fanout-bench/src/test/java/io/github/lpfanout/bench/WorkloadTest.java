package io.github.lpfanout.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The request targets the load client sends the baseline, and how a baseline reads them. */
class WorkloadTest {

  @Test
  void baselineReadsBackTheTopicsEachClientAskedFor() {
    Workload spread = new Workload("spread", true, 20, 10, 3, 1024);
    for (int client = 0; client < spread.clients(); client++) {
      List<Integer> asked = Arrays.stream(spread.topicsOf(client)).boxed().toList();

      assertEquals(asked, List.copyOf(Workload.baselineTopics(spread.baselineTarget(client))));
    }
  }

  @Test
  void topicNamedTwiceIsReadOnce() {
    assertEquals(List.of(3, 1), List.copyOf(Workload.baselineTopics("/t/3,1,3")));
  }

  @Test
  void targetsTheLoadClientNeverSendsAreRefused() {
    for (String target : List.of("/x/1", "/t/", "/t/-1", "/t/a", "/t/1,", "/t/1,,2",
        "/t/300000000", "/t/+1")) {
      assertNull(Workload.baselineTopics(target), target);
    }
  }
}
