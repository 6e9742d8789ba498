package io.github.lpfanout.servlet;

import io.github.lpfanout.Admission;
import io.github.lpfanout.ClientStream;
import io.github.lpfanout.Frame;
import io.github.lpfanout.Refusal;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.servlet.AsyncContext;
import javax.servlet.AsyncEvent;
import javax.servlet.AsyncListener;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers one async request: writes the refusal, or the admitted stream's headers and frames,
 * without ever blocking.
 *
 * <p>Three kinds of thread call in: container threads ({@link #onWritePossible} and the {@link
 * AsyncListener} methods), the thread that completes the admission (the request thread or the
 * authorizer's), and the threads that wake the stream (the fanout's delivery thread, the heartbeat
 * timer, a thread closing the fanout). Every one of them only signals the pump; whichever thread
 * finds the pump idle drains on behalf of all, and loops while signals arrived meanwhile. So the
 * response is used by one thread at a time, its output only while {@link
 * ServletOutputStream#isReady()} says so, and no thread ever waits for a client.
 *
 * <p>A wake-up from the fanout hands the draining to the servlet's writer executor rather than
 * draining on the waking thread: the fanout delivers a message to every client from one thread,
 * which would otherwise make every container write itself, one client after another. If the
 * executor refuses the task (it was shut down), the waking thread drains after all.
 *
 * <p>The response is completed exactly once: by the pump when the stream finishes (the fanout shut
 * down, or dropped the client as too slow) or a write fails, or by the container's {@code onError}
 * or {@code onTimeout} callback, whichever comes first.
 *
 * <p>Note: a container recycles the request, response, output stream and async context for another
 * connection as soon as {@code onComplete} returns, and after {@code onError} it completes the
 * response itself unless the listener did. Tomcat does both while a pump on another thread may be
 * in the middle of a write. So every use of those objects happens under {@code lock}, after
 * checking {@code ended} under it, and the container's callbacks take the same lock: once one of
 * them returns, nothing here touches the response again. The lock is held only for non-blocking
 * calls. A callback never waits on a pump that needs a container lock, because the pump only
 * calls {@code complete()} or writes while the response is not yet ended, and Tomcat fires {@code
 * onComplete} with its async state locked only after the response was completed.
 */
final class StreamWriter implements WriteListener, AsyncListener {
  private static final Logger log = LoggerFactory.getLogger(StreamWriter.class);

  private final AsyncContext async;
  private final HttpServletResponse response;
  private final ServletOutputStream out;
  private final Executor writers;
  private final int bufferBytes;
  private final AtomicInteger signals = new AtomicInteger();
  /** Made once: a wake-up comes with every message, and a method reference is a new object. */
  private final Runnable drainTask = this::drainWhileSignalled;
  /** Held while the response, its output or the async context is used; see the class notes. */
  // A monitor rather than a ReentrantLock: it records its owner outside the heap, where a lock's
  // owner field would dirty a card of this long-lived object for G1 on every drain.
  private final Object lock = new Object();

  /** Set once the admission is known; read by every thread. */
  private volatile ClientStream stream;
  private volatile Refusal refusal;
  /** The first {@link #onWritePossible} has come: output may be used, after isReady(). */
  private volatile boolean writable;

  /** The response was completed, by this class or the container: nothing may touch it again. */
  private boolean ended; // guarded by lock

  // Touched only by the thread that holds the pump.
  private boolean headersSet;
  private boolean unflushed = true;
  // Bytes held back until the output is ready again: a frame's body after its head, or a
  // refusal's body after its headers.
  private byte[] pending;

  /**
   * @param writers where a wake-up from the fanout drains; tasks never block, so a few threads
   *     serve every stream
   * @param bufferBytes the response buffer an admitted stream asks the container for
   */
  StreamWriter(
      AsyncContext async, HttpServletResponse response, Executor writers, int bufferBytes)
      throws IOException {
    this.async = async;
    this.response = response;
    this.out = response.getOutputStream();
    this.writers = writers;
    this.bufferBytes = bufferBytes;
  }

  /**
   * Registers for writes. Called once on the request thread, which the container's first {@link
   * #onWritePossible} waits for, so that no other thread ever sets the listener.
   */
  void start() {
    out.setWriteListener(this);
  }

  /**
   * Starts answering with {@code admission}. Called once, on the request thread or the
   * authorizer's; the headers are set by the pump.
   */
  void admit(Admission admission) {
    if (admission instanceof Admission.Refused refused) {
      refuse(refused.refusal());
      return;
    }

    ClientStream admitted = ((Admission.Admitted) admission).stream();
    admitted.onAvailable(this::wake);
    admitted.onAbort(this::wake);
    stream = admitted;
    pump();
  }

  /** Sends {@code refusal} as the whole answer. Called at most once, instead of admit. */
  void refuse(Refusal refusal) {
    this.refusal = refusal;
    pump();
  }

  @Override
  public void onWritePossible() {
    writable = true;
    pump();
  }

  @Override
  public void onError(Throwable error) {
    log.debug("Writing to the client of {} failed", stream, error);
    endNow();
  }

  @Override
  public void onError(AsyncEvent event) {
    log.debug("The client of {} went away", stream, event.getThrowable());
    endNow();
  }

  @Override
  public void onTimeout(AsyncEvent event) {
    endNow();
  }

  /** Waits for a pump that is using the response, which the container recycles after this. */
  @Override
  public void onComplete(AsyncEvent event) {
    synchronized (lock) {
      ended = true;
    }

    closeStream();
  }

  @Override
  public void onStartAsync(AsyncEvent event) {
    // Async is started once, by the servlet.
  }

  /** Completes the response on the container's thread, as the container asks of onError. */
  private void endNow() {
    synchronized (lock) {
      end();
    }

    closeStream();
  }

  private void closeStream() {
    ClientStream current = stream;
    if (current != null) {
      current.close();
    }
  }

  /** Drains on this thread unless another thread is draining, which then drains once more. */
  private void pump() {
    if (signals.getAndIncrement() == 0) {
      drainWhileSignalled();
    }
  }

  /** As {@link #pump()}, but drains on the writer executor if nothing is draining. */
  private void wake() {
    if (signals.getAndIncrement() != 0) {
      return;
    }
    try {
      writers.execute(drainTask);
    } catch (RejectedExecutionException shutDown) {
      drainWhileSignalled();
    }
  }

  /** Drains until no signal came in meanwhile. Called by the thread that took the first signal. */
  private void drainWhileSignalled() {
    int missed = 1;
    do {
      drain();
      missed = signals.addAndGet(-missed);
    } while (missed != 0);
  }

  private void drain() {
    boolean over;
    synchronized (lock) {
      if (!ended && writable) {
        write();
      }
      over = ended;
    }

    if (over) {
      closeStream();
    }
  }

  /** Writes what can be written now. Called with the lock held, before the response ended. */
  private void write() {
    try {
      Refusal refused = refusal;
      ClientStream admitted = stream;
      if (refused != null) {
        writeRefusal(refused);
      } else if (admitted != null) {
        writeFrames(admitted);
      }
    } catch (IOException | RuntimeException e) {
      log.debug("Writing to the client of {} failed", stream, e);
      end();
    }
  }

  private void writeRefusal(Refusal refused) throws IOException {
    byte[] body = refused.body();
    if (!headersSet) {
      response.setStatus(refused.status());
      for (Map.Entry<String, List<String>> header : refused.headers().entrySet()) {
        for (String value : header.getValue()) {
          response.addHeader(header.getKey(), value);
        }
      }
      response.setContentLength(body.length);
      pending = body;
      headersSet = true;
    }

    if (pending != null) {
      if (!out.isReady()) {
        return;
      }
      writePending();
    }
    // As for a stream: completed once the write is out.
    if (out.isReady()) {
      end();
    }
  }

  /** Writes frames while the output is ready; flushes when the queue is empty. */
  private void writeFrames(ClientStream admitted) throws IOException {
    if (!headersSet) {
      // A stream holds its response buffer while it lives, mostly idle, and flushes after every
      // batch of frames anyway; see FanoutServlet's response-buffer-bytes for the trade-off.
      response.setBufferSize(bufferBytes);
      response.setStatus(HttpServletResponse.SC_OK);
      response.setContentType(admitted.contentType());
      for (Map.Entry<String, String> header : admitted.responseHeaders().entrySet()) {
        response.setHeader(header.getKey(), header.getValue());
      }
      headersSet = true;
    }

    while (true) {
      if (pending == null && admitted.isFinished()) {
        // Completing while a write is still in progress can corrupt the end of the response in
        // some containers (Tomcat): a stream that drained ends once its last write is out.
        if (admitted.isDiscarded() || out.isReady()) {
          end();
        }
        return;
      }
      if (!out.isReady()) {
        return;
      }

      if (pending != null) {
        writePending();
        continue;
      }
      Frame frame = admitted.poll();
      if (frame != null) {
        // A write may leave the output not ready, and a second write before it is ready again
        // is illegal: the body waits for the next pass if need be.
        out.write(frame.head());
        if (frame.body().length > 0) {
          pending = frame.body();
        }
        unflushed = true;
        continue;
      }
      if (admitted.isFinished()) {
        end();
        return;
      }
      if (!unflushed) {
        return;
      }
      out.flush();
      unflushed = false;
    }
  }

  /** Writes what was held back. Called only once {@code isReady()} said the output is ready. */
  private void writePending() throws IOException {
    byte[] bytes = pending;
    pending = null;
    out.write(bytes);
  }

  /**
   * Completes the response unless it has ended, which flushes whatever the container holds. Called
   * with the lock held; the caller closes the stream after releasing it.
   */
  private void end() {
    if (ended) {
      return;
    }
    ended = true;
    try {
      async.complete();
    } catch (IllegalStateException alreadyCompleted) {
      log.debug("The response of {} was already completed", stream, alreadyCompleted);
    }
  }
}
