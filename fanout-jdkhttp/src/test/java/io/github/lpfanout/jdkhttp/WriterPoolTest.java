package io.github.lpfanout.jdkhttp;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Await;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WriterPoolTest {
  private final WriterPool pool = new WriterPool(1, TimeUnit.MILLISECONDS.toNanos(50));

  @AfterEach
  void shutDown() {
    pool.shutdownNow();
  }

  @Test
  void aStalledTaskDoesNotHoldBackTheTasksBehindIt() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch ran = new CountDownLatch(1);

    pool.execute(() -> awaitQuietly(release));
    pool.execute(ran::countDown);

    try {
      assertTrue(ran.await(5, TimeUnit.SECONDS), "the second task waited for the stalled one");
    } finally {
      release.countDown();
    }
  }

  @Test
  void manyStalledTasksAheadOfAHealthyOneDelayItByAboutOneStall() throws Exception {
    // One stall-detection round per stalled task would take 30 x 100 ms; one for them all, 100.
    WriterPool slow = new WriterPool(1, TimeUnit.MILLISECONDS.toNanos(100));
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch ran = new CountDownLatch(1);
    try {
      for (int i = 0; i < 30; i++) {
        slow.execute(() -> awaitQuietly(release));
      }
      long start = System.nanoTime();
      slow.execute(ran::countDown);

      assertTrue(ran.await(5, TimeUnit.SECONDS), "the healthy task never ran");
      long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertTrue(waitedMillis < 1500, "the healthy task waited " + waitedMillis + " ms");
    } finally {
      release.countDown();
      slow.shutdownNow();
    }
  }

  @Test
  void manyTasksRunOnTheFewThreadsOfThePool() {
    AtomicInteger done = new AtomicInteger();
    java.util.Set<Thread> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();

    for (int i = 0; i < 10_000; i++) {
      pool.execute(() -> {
        threads.add(Thread.currentThread());
        done.incrementAndGet();
      });
    }

    Await.until("every task ran", Duration.ofSeconds(10), () -> done.get() == 10_000);
    assertTrue(threads.size() <= 2, "tasks ran on " + threads.size() + " threads");
  }

  @Test
  void shutdownLetsARunningTaskFinish() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger interrupted = new AtomicInteger();
    pool.execute(() -> {
      started.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        interrupted.incrementAndGet();
      }
    });
    assertTrue(started.await(5, TimeUnit.SECONDS));

    pool.shutdown();
    release.countDown();

    assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS), "the pool did not end");
    assertTrue(interrupted.get() == 0, "shutdown interrupted a running task");
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
