package io.github.lpfanout;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The frames waiting to be written to one connected client, and the client's subscription.
 *
 * <p>Pollers add frames from their threads; the transport takes them out and writes them. A frame
 * is the unit of writing, so frames of different URLs never interleave. The bytes queued here are
 * bounded: a frame that would take the queue past {@code maxPendingBytes} ends the stream instead,
 * so a client that stops reading only ever costs its own bound. A frame is always accepted into an
 * empty queue, however large.
 *
 * <p>Two kinds of writer are served:
 *
 * <ul>
 *   <li>A blocking writer calls {@link #take()} in a loop on a thread of its own, writes each frame
 *       and flushes once {@link #poll()} has nothing more.
 *   <li>A non-blocking writer calls {@link #poll()} while its output is ready. When poll returns
 *       null, the callback given to {@link #onAvailable} runs once, as soon as a frame arrives or
 *       the stream finishes; the writer then polls again.
 * </ul>
 *
 * <p>Either way, a writer stops when {@link #isFinished()} is true, and calls {@link #close()} when
 * the client goes away or a write fails. When the library ends a stream without draining it (the
 * client was too slow), the callback given to {@link #onAbort} runs once, so that a writer blocked
 * on a stalled socket can be broken out of its write.
 *
 * <p>A stream starts with a first frame already queued: its format's opening (SSE's {@code
 * retry:}), or a heartbeat, so that the writer sends the response headers at once.
 *
 * <p>Thread-safe. Callbacks run on the thread that caused them (the registry's delivery thread,
 * the heartbeat thread, or a thread closing the library) and never while this stream's lock is
 * held.
 *
 * <p>Note: queuing a frame stores a reference into this long-lived stream, so every message dirties
 * one card per subscribed client for G1 to refine. On Java 17 with G1's default settings that
 * refinement took a quarter of the proxy's CPU at 10,000 clients; the README's JVM settings leave
 * the cards to the next young collection.
 */
public final class ClientStream implements Subscriber {
  private static final Logger log = LoggerFactory.getLogger(ClientStream.class);

  private enum State { OPEN, DRAINING, ENDED }

  private final FrameEncoder encoder;
  private final Frame heartbeat;
  private final Map<String, String> responseHeaders;
  private final List<UpstreamUrl> urls;
  private final String client;
  private final long maxPendingBytes;
  private final Consumer<ClientStream> onEnd;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();

  private final ArrayDeque<Frame> queue = new ArrayDeque<>();
  private long pendingBytes;
  private State state = State.OPEN;
  private boolean writerWaiting;
  private boolean endReported;
  private Runnable availableCallback;
  private Runnable abortCallback;
  private Subscription subscription;
  private boolean dropped;
  private final Counters counters;
  private volatile long lastFrameNanos = System.nanoTime();

  ClientStream(
      FrameEncoder encoder,
      List<UpstreamUrl> urls,
      String client,
      long maxPendingBytes,
      Consumer<ClientStream> onEnd) {
    this(encoder, Map.of(), null, Frame.of(encoder.heartbeat()), urls, client, maxPendingBytes,
        new Counters(), onEnd);
  }

  /**
   * @param headers response headers besides the encoder's, such as CORS headers
   * @param opening the frame queued before any other, such as the encoder's opening; may be null
   * @param heartbeat the encoder's heartbeat, shared by the streams of its format
   * @param counters where deliveries and drops are counted
   */
  ClientStream(
      FrameEncoder encoder,
      Map<String, String> headers,
      Frame opening,
      Frame heartbeat,
      List<UpstreamUrl> urls,
      String client,
      long maxPendingBytes,
      Counters counters,
      Consumer<ClientStream> onEnd) {
    this.encoder = encoder;
    this.heartbeat = heartbeat;
    this.counters = counters;
    Map<String, String> all = new LinkedHashMap<>(encoder.responseHeaders());
    all.putAll(headers);
    this.responseHeaders = Collections.unmodifiableMap(all);
    this.urls = List.copyOf(urls);
    this.client = client;
    this.maxPendingBytes = maxPendingBytes;
    this.onEnd = onEnd;
    if (opening != null) {
      queue.add(opening);
      pendingBytes = opening.length();
    }
  }

  /** The format this client reads. */
  public FrameEncoder encoder() {
    return encoder;
  }

  /** The {@code Content-Type} the response must carry. */
  public String contentType() {
    return encoder.contentType();
  }

  /** Other headers the response must carry: the format's, and CORS headers if any apply. */
  public Map<String, String> responseHeaders() {
    return responseHeaders;
  }

  /** The URLs this client is subscribed to. */
  public List<UpstreamUrl> urls() {
    return urls;
  }

  /** Bytes queued and not yet taken by the writer. */
  public long pendingBytes() {
    lock.lock();
    try {
      return pendingBytes;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Returns the next frame without waiting, or null if there is none now. Its arrays must not be
   * modified: other clients share them.
   */
  public Frame poll() {
    boolean finishedNow;
    lock.lock();
    try {
      Frame frame = queue.poll();
      if (frame != null) {
        pendingBytes -= frame.length();
        return frame;
      }
      writerWaiting = true;
      finishedNow = state != State.OPEN && !endReported;
      endReported |= finishedNow;
    } finally {
      lock.unlock();
    }

    if (finishedNow) {
      onEnd.accept(this);
    }
    return null;
  }

  /**
   * Waits for the next frame and returns it, or returns null once the stream is finished.
   *
   * @throws InterruptedException if the thread is interrupted while it waits
   */
  public Frame take() throws InterruptedException {
    lock.lock();
    try {
      while (queue.isEmpty() && state == State.OPEN) {
        changed.await();
      }
    } finally {
      lock.unlock();
    }
    return poll();
  }

  /**
   * Whether the writer should end the response: the client was closed or dropped, or the library is
   * shutting down and every queued frame was taken.
   */
  public boolean isFinished() {
    lock.lock();
    try {
      return state == State.ENDED || (state == State.DRAINING && queue.isEmpty());
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether the stream ended without draining, its queued frames discarded: the client went away,
   * a write failed, the client was too slow, or the library stopped waiting for it. A
   * non-blocking writer then ends the response at once, without waiting for a write in progress.
   */
  public boolean isDiscarded() {
    lock.lock();
    try {
      return state == State.ENDED;
    } finally {
      lock.unlock();
    }
  }

  /** Sets the callback that a non-blocking writer waits on; see the class description. */
  public void onAvailable(Runnable callback) {
    lock.lock();
    try {
      this.availableCallback = callback;
    } finally {
      lock.unlock();
    }
  }

  /** Sets the callback that runs if the library drops this client; see the class description. */
  public void onAbort(Runnable callback) {
    lock.lock();
    try {
      this.abortCallback = callback;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Ends the stream because the client went away or a write failed: unsubscribes from every URL at
   * once and discards queued frames. Idempotent.
   */
  public void close() {
    end(false);
  }

  @Override
  public void onMessage(UpstreamUrl url, Message message) {
    offer(message.frame(encoder, url.spelling()), true);
  }

  /** Queues a heartbeat if nothing was queued for {@code intervalNanos}. */
  void heartbeatIfIdle(long nowNanos, long intervalNanos) {
    if (nowNanos - lastFrameNanos >= intervalNanos) {
      offer(heartbeat, false);
    }
  }

  void attach(Subscription subscription) {
    boolean ended;
    lock.lock();
    try {
      this.subscription = subscription;
      ended = state != State.OPEN;
    } finally {
      lock.unlock();
    }
    if (ended) {
      subscription.close();
    }
  }

  /** Ends the stream after the writer has taken what is queued; nothing new is queued. */
  void finish() {
    Subscription toClose;
    Runnable wake;
    lock.lock();
    try {
      if (state != State.OPEN) {
        return;
      }
      state = State.DRAINING;
      toClose = subscription;
      wake = takeWakeup();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    closeAndRun(toClose, wake, null);
  }

  /** Ends the stream at once, running the abort callback so that a blocked writer lets go. */
  void abort() {
    end(true);
  }

  /**
   * Queues {@code frame}, or drops the client if it would pass the bound; true if queued. A
   * message's frame is counted before any writer can see it.
   */
  private boolean offer(Frame frame, boolean message) {
    Runnable wake = null;
    long overflow = 0;
    lock.lock();
    try {
      if (state != State.OPEN || dropped) {
        return false;
      }
      int length = frame.length();
      if (!queue.isEmpty() && pendingBytes + length > maxPendingBytes) {
        overflow = pendingBytes + length;
        dropped = true;
      } else {
        queue.add(frame);
        pendingBytes += length;
        if (message) {
          counters.messagesDelivered.increment();
          counters.bytesDelivered.add(length);
        }
        lastFrameNanos = System.nanoTime();
        changed.signalAll();
        wake = takeWakeup();
      }
    } finally {
      lock.unlock();
    }

    if (overflow > 0) {
      log.warn("Dropping client {}: {} bytes would be pending, over the bound of {}",
          client, overflow, maxPendingBytes);
      counters.clientsDroppedSlow.increment();
      end(true);
      return false;
    }
    run(wake);
    return true;
  }

  private void end(boolean abort) {
    Subscription toClose;
    Runnable wake;
    Runnable abortWriter;
    boolean report;
    lock.lock();
    try {
      if (state == State.ENDED && endReported) {
        return;
      }
      state = State.ENDED;
      dropQueue();
      toClose = subscription;
      wake = takeWakeup();
      abortWriter = abort ? abortCallback : null;
      abortCallback = null;
      report = !endReported;
      endReported = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }

    closeAndRun(toClose, wake, abortWriter);
    if (report) {
      onEnd.accept(this);
    }
  }

  private void dropQueue() {
    queue.clear();
    pendingBytes = 0;
  }

  private Runnable takeWakeup() {
    if (!writerWaiting) {
      return null;
    }
    writerWaiting = false;
    return availableCallback;
  }

  private void closeAndRun(Subscription toClose, Runnable wake, Runnable abortWriter) {
    if (toClose != null) {
      toClose.close();
    }
    run(abortWriter);
    run(wake);
  }

  private void run(Runnable callback) {
    if (callback == null) {
      return;
    }
    try {
      callback.run();
    } catch (RuntimeException e) {
      log.warn("Callback of client {} threw", client, e);
    }
  }

  @Override
  public String toString() {
    return "ClientStream{" + client + ", " + encoder.name() + ", " + urls.size() + " URLs}";
  }
}
