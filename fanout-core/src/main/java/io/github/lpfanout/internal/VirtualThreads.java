package io.github.lpfanout.internal;

import java.lang.reflect.InvocationTargetException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;

/**
 * Virtual threads where the running JVM has them, Java 21 and later. The library is built for
 * Java 17, so they are reached by reflection. Shared by the library's modules; not part of its
 * API.
 */
public final class VirtualThreads {

  private VirtualThreads() {}

  /**
   * A factory of virtual threads named {@code prefix-1}, {@code prefix-2}, and so on, or unnamed
   * if {@code prefix} is null; null before Java 21.
   */
  public static ThreadFactory factory(String prefix) {
    try {
      Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
      Class<?> builderType = Class.forName("java.lang.Thread$Builder");
      if (prefix != null) {
        builder = builderType.getMethod("name", String.class, long.class)
            .invoke(builder, prefix + "-", 1L);
      }
      return (ThreadFactory) builderType.getMethod("factory").invoke(builder);
    } catch (NoSuchMethodException e) {
      return null;
    } catch (InvocationTargetException e) {
      // Java 19 and 20 have virtual threads only as a preview feature.
      return null;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot create virtual threads", e);
    }
  }

  /**
   * An executor that starts a new thread from {@code factory} for each task and tracks them, so
   * that {@code shutdownNow} interrupts them; null before Java 21.
   */
  public static ExecutorService perTaskExecutor(ThreadFactory factory) {
    try {
      return (ExecutorService) Executors.class
          .getMethod("newThreadPerTaskExecutor", ThreadFactory.class)
          .invoke(null, factory);
    } catch (NoSuchMethodException e) {
      return null;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot create a thread-per-task executor", e);
    }
  }
}
