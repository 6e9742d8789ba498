package io.github.lpfanout.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A server process as the driver starts it, and what it reports about itself. */
class ServerProcessTest {

  @Test
  @Timeout(20)
  void serverThatEndsBeforeItListensFailsAtOnceNotAfterTheReadyTimeout(@TempDir Path logs) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    IOException failed = assertThrows(IOException.class, () -> ServerProcess.start(
        "quitter", java, List.of(), Quitter.class, List.of(), logs.resolve("quitter.log")));

    assertEquals("quitter did not start (ERROR the process ended); see its log",
        failed.getMessage());
  }

  @Test
  void serverTimeLeavesOutTheJitCompilersShare() {
    ServerProcess.Stats before = ServerProcess.Stats.parse(
        "STATS cpu=5000000000 jit=2000000000 heap=1 peak=1 threads=9 rss=1 clients=0");
    ServerProcess.Stats after = ServerProcess.Stats.parse(
        "STATS cpu=8000000000 jit=2500000000 heap=1 peak=1 threads=9 rss=1 clients=0");

    assertEquals(2_500_000_000L, after.serverNanosSince(before));
    assertEquals(500_000_000L, after.jitNanosSince(before));
  }

  @Test
  void theCompilerHasSettledOnceItTakesUnderTwoPercentOfACoreForASecond() {
    ServerProcess.Stats start = stats(10_000_000_000L, 3_000_000_000L);

    // A second of heavy serving, with the compiler at 20 ms, counts as settled.
    assertTrue(Bench.compilerSettled(start, stats(11_000_000_000L, 3_020_000_000L)));
    // Half a core of compiling does not, however little else the server did.
    assertFalse(Bench.compilerSettled(start, stats(10_600_000_000L, 3_500_000_000L)));
  }

  private static ServerProcess.Stats stats(long cpuNanos, long jitNanos) {
    return new ServerProcess.Stats(cpuNanos, jitNanos, 0, 0, 1, 0, 0);
  }

  /** Ends at once, as a server does whose JVM options or arguments it cannot use. */
  public static final class Quitter {
    public static void main(String[] args) {}
  }
}
