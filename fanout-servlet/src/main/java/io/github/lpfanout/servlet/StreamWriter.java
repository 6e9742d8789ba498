package io.github.lpfanout.servlet;

import io.github.lpfanout.Admission;
import io.github.lpfanout.ClientStream;
import io.github.lpfanout.Refusal;
import java.io.IOException;
import java.util.List;
import java.util.Map;
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
 * Answers one async request: writes the refusal, or the admitted stream's frames, without ever
 * blocking.
 *
 * <p>Three kinds of thread call in: container threads ({@link #onWritePossible} and the {@link
 * AsyncListener} methods), the thread that completes the admission (the request thread or the
 * authorizer's), and the threads that wake the stream (pollers, the heartbeat timer, a thread
 * closing the fanout). Every one of them only signals {@link #pump()}; whichever thread finds the
 * pump idle drains on behalf of all, and loops while signals arrived meanwhile. So the output
 * stream is used by one thread at a time, only while {@link ServletOutputStream#isReady()} says so,
 * and no thread ever waits for a client.
 *
 * <p>The response is completed when the stream finishes (the fanout shut down, or dropped the
 * client as too slow), when a write fails, and after the container reports an error. A client that
 * went away is unsubscribed as soon as the container tells, at the latest when the next frame or
 * heartbeat cannot be written.
 */
final class StreamWriter implements WriteListener, AsyncListener {
  private static final Logger log = LoggerFactory.getLogger(StreamWriter.class);

  private final AsyncContext async;
  private final HttpServletResponse response;
  private final ServletOutputStream out;
  private final AtomicInteger signals = new AtomicInteger();

  /** Set once the admission is known; read by every thread. */
  private volatile ClientStream stream;
  private volatile byte[] refusalBody;
  /** The first {@link #onWritePossible} has come: output may be used, after isReady(). */
  private volatile boolean writable;
  /** The container reported an error or a timeout: the response is to be completed. */
  private volatile boolean failed;
  /** The container completed the response: nothing may touch it again. */
  private volatile boolean completed;

  // Touched only by the thread that holds the pump.
  private boolean unflushed = true;
  private boolean done;

  StreamWriter(AsyncContext async, HttpServletResponse response) throws IOException {
    this.async = async;
    this.response = response;
    this.out = response.getOutputStream();
  }

  /**
   * Starts answering with {@code admission}. Called once, on the request thread or the
   * authorizer's.
   */
  void admit(Admission admission) {
    if (admission instanceof Admission.Refused refused) {
      refuse(refused.refusal());
      return;
    }

    ClientStream admitted = ((Admission.Admitted) admission).stream();
    stream = admitted;
    if (failed || completed) {
      admitted.close();
      return;
    }

    try {
      response.setStatus(HttpServletResponse.SC_OK);
      response.setContentType(admitted.contentType());
      for (Map.Entry<String, String> header : admitted.responseHeaders().entrySet()) {
        response.setHeader(header.getKey(), header.getValue());
      }
      admitted.onAvailable(this::pump);
      admitted.onAbort(this::pump);
      out.setWriteListener(this);
    } catch (RuntimeException containerEndedTheRequest) {
      log.debug("The request of {} ended before its stream started", admitted,
          containerEndedTheRequest);
      fail();
    }
  }

  /** Sends {@code refusal} as the whole answer. */
  void refuse(Refusal refusal) {
    if (failed || completed) {
      return;
    }

    byte[] body = refusal.body();
    try {
      response.setStatus(refusal.status());
      for (Map.Entry<String, List<String>> header : refusal.headers().entrySet()) {
        for (String value : header.getValue()) {
          response.addHeader(header.getKey(), value);
        }
      }
      response.setContentLength(body.length);
      refusalBody = body;
      out.setWriteListener(this);
    } catch (RuntimeException containerEndedTheRequest) {
      log.debug("The request ended before its refusal {} was sent", refusal,
          containerEndedTheRequest);
      fail();
    }
  }

  @Override
  public void onWritePossible() {
    writable = true;
    pump();
  }

  @Override
  public void onError(Throwable error) {
    log.debug("Writing to the client of {} failed", stream, error);
    fail();
  }

  @Override
  public void onError(AsyncEvent event) {
    log.debug("The client of {} went away", stream, event.getThrowable());
    fail();
  }

  @Override
  public void onTimeout(AsyncEvent event) {
    fail();
  }

  @Override
  public void onComplete(AsyncEvent event) {
    completed = true;
    closeStream();
  }

  @Override
  public void onStartAsync(AsyncEvent event) {
    // Async is started once, by the servlet.
  }

  private void fail() {
    failed = true;
    closeStream();
    pump();
  }

  private void closeStream() {
    ClientStream current = stream;
    if (current != null) {
      current.close();
    }
  }

  /** Drains on this thread unless another thread is draining, which then drains once more. */
  private void pump() {
    if (signals.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      drain();
      missed = signals.addAndGet(-missed);
    } while (missed != 0);
  }

  private void drain() {
    if (done || completed) {
      return;
    }
    if (failed) {
      end();
      return;
    }
    if (!writable) {
      return;
    }

    try {
      if (refusalBody != null) {
        writeRefusal();
      } else {
        writeFrames(stream);
      }
    } catch (IOException | RuntimeException e) {
      log.debug("Writing to the client of {} failed", stream, e);
      end();
    }
  }

  private void writeRefusal() throws IOException {
    if (out.isReady()) {
      out.write(refusalBody);
      end();
    }
  }

  /** Writes frames while the output is ready; flushes when the queue is empty. */
  private void writeFrames(ClientStream stream) throws IOException {
    while (true) {
      if (stream.isFinished()) {
        end();
        return;
      }
      if (!out.isReady()) {
        return;
      }

      byte[] frame = stream.poll();
      if (frame != null) {
        out.write(frame);
        unflushed = true;
        continue;
      }
      if (stream.isFinished()) {
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

  /** Ends the stream and completes the response, which flushes whatever the container holds. */
  private void end() {
    done = true;
    closeStream();
    try {
      async.complete();
    } catch (IllegalStateException alreadyCompleted) {
      log.debug("The response of {} was already completed", stream);
    }
  }
}
