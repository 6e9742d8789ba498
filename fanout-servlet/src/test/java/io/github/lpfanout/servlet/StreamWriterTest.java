package io.github.lpfanout.servlet;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.Admission;
import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.PollerRegistry;
import io.github.lpfanout.StreamRequest;
import io.github.lpfanout.UpstreamUrl;
import io.github.lpfanout.testing.Await;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.servlet.AsyncContext;
import javax.servlet.AsyncEvent;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How the writer shares a response with the container, which recycles it for the next connection
 * once it has reported an error and completed it. A fake container makes the race deterministic:
 * a write is held open on the writer thread while the container ends the request.
 */
class StreamWriterTest {
  /** Push-fed, so never polled: nothing connects to it. */
  private static final String URL = "http://127.0.0.1:1/push/a";

  private Fanout fanout;
  private final FakeContainer container = new FakeContainer();
  private final ExecutorService writers =
      Executors.newSingleThreadExecutor(task -> new Thread(task, "writer"));

  @BeforeEach
  void startFanout() {
    fanout = Fanout.newBuilder()
        .registry(PollerRegistry.newBuilder().pushFedPrefix("http://127.0.0.1:1/push/").build())
        .authorizer(Authorizer.allowAll())
        .build();
  }

  @AfterEach
  void closeFanout() {
    container.output.release();
    fanout.close();
    writers.shutdownNow();
  }

  @Test
  void containerEndingTheRequestMidWriteWaitsForTheWriteAndNothingTouchesTheResponseAfter()
      throws Exception {
    StreamWriter writer = admittedWriter();
    container.output.holdNextWrite();
    publish("held");
    Await.until("a write in progress", container.output::holding);

    Thread containerThread = new Thread(() -> {
      writer.onError(new AsyncEvent(container.async, new IOException("Broken pipe")));
      writer.onComplete(new AsyncEvent(container.async));
      container.recycle();
    }, "container");
    containerThread.start();
    Await.until("the container waiting for the write, or done", () -> {
      Thread.State state = containerThread.getState();
      return state == Thread.State.BLOCKED || state == Thread.State.WAITING
          || state == Thread.State.TERMINATED;
    });
    assertFalse(container.recycled.get(), "recycled while a write was in progress");

    container.output.release();
    containerThread.join(TimeUnit.SECONDS.toMillis(10));
    publish("after");
    Await.until("unsubscribed", () -> subscribers() == 0);

    assertEquals(List.of(), container.usesAfterRecycle, "used after the container recycled it");
    assertEquals(1, container.completions.get(), "complete() calls");
  }

  @Test
  void frameFromTheFanoutIsWrittenOnTheWriterExecutorNotTheDeliveryThread() throws Exception {
    admittedWriter();

    publish("first-frame");

    Await.until("the frame written", () -> container.output.written().contains("first-frame"));
    assertEquals(Set.of("writer"), container.output.threadsWritingSince("first-frame"));
  }

  @Test
  void frameStillWrittenByTheWakingThreadOnceTheWriterExecutorIsShutDown() throws Exception {
    admittedWriter();
    writers.shutdown();

    publish("after-shutdown");

    Await.until("the frame written", () -> container.output.written().contains("after-shutdown"));
    Set<String> threads = container.output.threadsWritingSince("after-shutdown");
    assertTrue(threads.stream().allMatch(name -> name.startsWith("fanout-delivery")),
        "written on the fanout's delivery thread: " + threads);
  }

  @Test
  void errorReportedByTheContainerIsAnsweredByCompletingOnItsThread() throws Exception {
    StreamWriter writer = admittedWriter();

    writer.onError(new AsyncEvent(container.async, new IOException("Broken pipe")));

    assertEquals(1, container.completions.get(), "complete() calls during onError");
    writer.onComplete(new AsyncEvent(container.async));
    container.recycle();
    publish("after");
    Await.until("unsubscribed", () -> subscribers() == 0);
    assertEquals(List.of(), container.usesAfterRecycle, "used after the container recycled it");
  }

  @Test
  void failedWriteCompletesOnceAndTheContainersLaterErrorDoesNotCompleteAgain() throws Exception {
    StreamWriter writer = admittedWriter();
    container.output.failWrites();

    publish("lost");
    Await.until("completed after the failed write", () -> container.completions.get() == 1);
    writer.onError(new AsyncEvent(container.async, new IOException("Broken pipe")));
    writer.onComplete(new AsyncEvent(container.async));
    container.recycle();
    publish("after");

    Await.until("unsubscribed", () -> subscribers() == 0);
    assertEquals(1, container.completions.get(), "complete() calls");
    assertEquals(List.of(), container.usesAfterRecycle, "used after the container recycled it");
  }

  /** A writer that the container made writable and whose client was admitted and subscribed. */
  private StreamWriter admittedWriter() throws Exception {
    StreamWriter writer = new StreamWriter(container.async, container.response, writers, 8192);
    writer.start();
    writer.onWritePossible();
    Admission admission = fanout.open(StreamRequest.of("/sse/" + URL, Map.of(), "127.0.0.1"))
        .get(10, TimeUnit.SECONDS);
    writer.admit(admission);
    Await.until("subscribed", () -> subscribers() == 1);
    Await.until("the headers flushed", () -> container.output.flushes.get() > 0);
    return writer;
  }

  private void publish(String body) {
    fanout.registry().publish(UpstreamUrl.of(URL), body.getBytes(UTF_8), "text/plain");
  }

  private int subscribers() {
    return fanout.registry().subscriberCount(UpstreamUrl.of(URL));
  }

  /**
   * The response, output and async context of one request, which record every use after {@link
   * #recycle()}, as a container that handed them to the next connection would be used.
   */
  private static final class FakeContainer {
    final AtomicBoolean recycled = new AtomicBoolean();
    final List<String> usesAfterRecycle = new CopyOnWriteArrayList<>();
    final AtomicInteger completions = new AtomicInteger();
    final FakeOutput output = new FakeOutput(this);
    final HttpServletResponse response = proxy(HttpServletResponse.class, "response", output);
    final AsyncContext async = proxy(AsyncContext.class, "async", null);

    void recycle() {
      recycled.set(true);
    }

    void used(String what) {
      if (recycled.get()) {
        usesAfterRecycle.add(what + " on " + Thread.currentThread().getName());
      }
    }

    private <T> T proxy(Class<T> type, String name, Object outputStream) {
      return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
          (self, method, args) -> {
            switch (method.getName()) {
              case "toString":
                return name;
              case "hashCode":
                return System.identityHashCode(self);
              case "equals":
                return self == args[0];
              default:
                break;
            }
            used(name + "." + method.getName());
            if (method.getName().equals("complete")) {
              completions.incrementAndGet();
            }
            if (method.getName().equals("getOutputStream")) {
              return outputStream;
            }
            Class<?> returns = method.getReturnType();
            return returns == boolean.class ? false : returns == int.class ? 0 : null;
          }));
    }
  }

  /** Always ready; can hold one write open until released, or fail every write. */
  private static final class FakeOutput extends ServletOutputStream {
    final AtomicInteger flushes = new AtomicInteger();
    private final FakeContainer container;
    /** Every write's text and the name of the thread that made it, in order. */
    private final List<String[]> writes = new CopyOnWriteArrayList<>();
    private final CountDownLatch released = new CountDownLatch(1);
    private volatile boolean holdNext;
    private volatile boolean holding;
    private volatile boolean failing;

    FakeOutput(FakeContainer container) {
      this.container = container;
    }

    void holdNextWrite() {
      holdNext = true;
    }

    boolean holding() {
      return holding;
    }

    void release() {
      released.countDown();
    }

    void failWrites() {
      failing = true;
    }

    String written() {
      StringBuilder text = new StringBuilder();
      writes.forEach(write -> text.append(write[0]));
      return text.toString();
    }

    /** The threads that made the write containing {@code text} and every write after it. */
    Set<String> threadsWritingSince(String text) {
      Set<String> threads = new HashSet<>();
      boolean seen = false;
      for (String[] write : writes) {
        seen |= write[0].contains(text);
        if (seen) {
          threads.add(write[1]);
        }
      }
      return threads;
    }

    @Override
    public boolean isReady() {
      container.used("isReady");
      return true;
    }

    @Override
    public void setWriteListener(WriteListener listener) {
      container.used("setWriteListener");
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      container.used("write");
      if (failing) {
        throw new IOException("Broken pipe");
      }
      writes.add(new String[] {
          new String(bytes, offset, length, UTF_8), Thread.currentThread().getName()});
      if (holdNext) {
        holdNext = false;
        holding = true;
        try {
          released.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        holding = false;
      }
    }

    @Override
    public void flush() {
      container.used("flush");
      flushes.incrementAndGet();
    }
  }
}
