package io.github.lpfanout.jdkhttp;

import java.util.List;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The writer threads of the JDK transport where there are no virtual threads: a few platform
 * threads run the write tasks of whichever streams have frames, and a thread held by a write that
 * makes no progress is replaced, so that a client that stops reading delays no other.
 *
 * <p>The JDK server's response streams block, so a write to a client that stopped reading holds
 * its thread until the client reads again or is dropped for its pending-bytes bound. A monitor
 * counts a thread whose task has run longer than the stall time as stalled. Once any thread is
 * stalled, the tasks queued behind it may be for other stalled clients too, whose writes would
 * stall the threads that replaced the first, one round after another while healthy clients wait:
 * so the monitor starts a thread for every queued task as well as the {@code size} free ones, up
 * to {@value #MAX_THREADS} threads in all. A thread idle for a while ends, so that an idle server
 * keeps one thread, and idle clients hold none.
 *
 * <p>Threads are daemons named {@code fanout-jdkhttp-N}. Thread-safe.
 */
final class WriterPool extends AbstractExecutorService {
  private static final long IDLE_NANOS = TimeUnit.SECONDS.toNanos(10);
  /** The most threads the pool runs, however many writes are stalled. */
  static final int MAX_THREADS = 512;

  private final int size;
  private final long stallNanos;
  private final LinkedBlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
  private final Set<Worker> workers = ConcurrentHashMap.newKeySet();
  private final AtomicInteger names = new AtomicInteger();
  private final Thread monitor;
  private volatile int stalled;
  private volatile boolean shutdown;

  WriterPool(int size, long stallNanos) {
    this.size = size;
    this.stallNanos = stallNanos;
    this.monitor = new Thread(this::watch, "fanout-jdkhttp-monitor");
    monitor.setDaemon(true);
    monitor.start();
  }

  @Override
  public void execute(Runnable task) {
    if (shutdown) {
      throw new RejectedExecutionException("writer pool is shut down");
    }
    tasks.add(task);
    if (workers.size() < size) {
      startWorkers(size);
    }
  }

  /** Starts threads until {@code free} of them are not stalled, within {@link #MAX_THREADS}. */
  private synchronized void startWorkers(int free) {
    while (!shutdown && workers.size() - stalled < free && workers.size() < MAX_THREADS) {
      Worker worker = new Worker();
      workers.add(worker);
      worker.thread.start();
    }
  }

  /** Every half stall time, counts stalled threads and makes up for them. */
  private void watch() {
    while (!shutdown) {
      try {
        Thread.sleep(Math.max(1, TimeUnit.NANOSECONDS.toMillis(stallNanos / 2)));
      } catch (InterruptedException e) {
        return;
      }
      long now = System.nanoTime();
      int count = 0;
      for (Worker worker : workers) {
        long since = worker.taskStart;
        if (since != 0 && now - since > stallNanos) {
          count++;
        }
      }
      stalled = count;
      int queued = tasks.size();
      if (count > 0 && queued > 0) {
        startWorkers(size + queued);
      }
    }
  }

  /**
   * Lets running tasks finish; idle threads end at once. Holds the lock that starting workers
   * takes, so that no worker starts unseen by the wake-ups queued here.
   */
  @Override
  public synchronized void shutdown() {
    shutdown = true;
    monitor.interrupt();
    // Counted once: workers that take a wake-up leave the set while this loop runs.
    int wakeUps = workers.size();
    for (int i = 0; i < wakeUps; i++) {
      tasks.add(() -> { });
    }
  }

  /** Also interrupts the running tasks, which breaks their writes. */
  @Override
  public List<Runnable> shutdownNow() {
    shutdown = true;
    monitor.interrupt();
    for (Worker worker : workers) {
      worker.thread.interrupt();
    }
    List<Runnable> left = new java.util.ArrayList<>();
    tasks.drainTo(left);
    return left;
  }

  @Override
  public boolean isShutdown() {
    return shutdown;
  }

  @Override
  public boolean isTerminated() {
    return shutdown && workers.isEmpty();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    for (Worker worker : workers) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedJoin(worker.thread, left);
    }
    return isTerminated();
  }

  /** Interrupts the pool's thread with id {@code threadId}, if it is still one of the pool's. */
  void interrupt(long threadId) {
    for (Worker worker : workers) {
      if (worker.thread.getId() == threadId) {
        worker.thread.interrupt();
        return;
      }
    }
  }

  private final class Worker implements Runnable {
    final Thread thread = new Thread(this, "fanout-jdkhttp-" + names.incrementAndGet());
    volatile long taskStart;

    Worker() {
      thread.setDaemon(true);
    }

    @Override
    public void run() {
      try {
        while (!shutdown) {
          Runnable task = tasks.poll(IDLE_NANOS, TimeUnit.NANOSECONDS);
          if (task == null) {
            if (retire()) {
              return;
            }
            continue;
          }
          taskStart = Math.max(1, System.nanoTime());
          try {
            task.run();
          } finally {
            taskStart = 0;
            Thread.interrupted();
          }
        }
      } catch (InterruptedException e) {
        // Shut down while waiting for a task.
      } finally {
        workers.remove(this);
      }
    }

    /** A thread idle for a while ends, unless it is the last one. */
    private boolean retire() {
      synchronized (WriterPool.this) {
        if (workers.size() > 1) {
          workers.remove(this);
          return true;
        }
        return false;
      }
    }
  }
}
