package io.github.lpfanout.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The platform threads the library starts for itself. Shared by the library's modules; not part of
 * its API.
 */
public final class DaemonThreads {

  private DaemonThreads() {}

  /**
   * A factory of daemon threads named {@code prefix-1}, {@code prefix-2}, and so on. They carry no
   * context class loader, so that neither they nor threads started from them (OkHttp's shared
   * task runner) pin a web application's class loader after it is undeployed.
   */
  public static ThreadFactory named(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, prefix + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      thread.setContextClassLoader(null);
      return thread;
    };
  }
}
