package io.github.lpfanout.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A server process as the driver starts it, here one that never gets as far as listening. */
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

  /** Ends at once, as a server does whose JVM options or arguments it cannot use. */
  public static final class Quitter {
    public static void main(String[] args) {}
  }
}
