package io.github.lpfanout;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
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
 * <p>A message that its topic delivers live is queued as a number, its position in the topic's
 * {@link MessageRing}, and looked up when the writer takes it. So a delivery stores no reference
 * into this long-lived stream, and dirties no card for G1 to refine: on Java 17, refining one card
 * per client and message took a quarter of the proxy's CPU at 10,000 clients. For the same reason
 * the stream's lock is a monitor, which records its owner outside the heap. Other frames (the
 * first frame, heartbeats, replayed history, and messages handed to {@link #onMessage} directly)
 * are queued by reference, in the same order.
 */
public final class ClientStream implements Subscriber {
  private static final Logger log = LoggerFactory.getLogger(ClientStream.class);

  private enum State { OPEN, DRAINING, ENDED }

  private static final long OTHER = -1;
  private static final int POSITION_BITS = 48;
  private static final long POSITION_MASK = (1L << POSITION_BITS) - 1;
  /** Entries beyond this many are queued by reference; far more than a client may name. */
  private static final int MAX_SLOTS = 1 << 15;
  /**
   * A stream with this many items queued is behind; once it has caught up, its topics let go of
   * the backlog it held at once rather than at their next message.
   */
  private static final int BEHIND_ITEMS = 64;

  private final FrameEncoder encoder;
  private final Frame heartbeat;
  private final Map<String, String> responseHeaders;
  private final List<UpstreamUrl> urls;
  private final String client;
  private final long maxPendingBytes;
  private final Consumer<ClientStream> onEnd;
  private final Object lock = new Object();

  // Guarded by lock. Each item is a position in the ring of entries[slot] (see item()), or OTHER
  // for the next of the frames queued by reference.
  private final LongQueue items = new LongQueue();
  // Sized for the opening and a heartbeat: most streams only ever queue those by reference.
  private final ArrayDeque<Frame> others = new ArrayDeque<>(2);
  private Topic.Entry[] entries = new Topic.Entry[1];
  private int entryCount;
  private boolean behind;
  private Thread taker;
  private boolean takerParked;
  private long pendingBytes;
  private State state = State.OPEN;
  private boolean writerWaiting;
  private boolean endReported;
  private Runnable availableCallback;
  private Runnable abortCallback;
  private Subscription subscription;
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
      items.add(OTHER);
      others.add(opening);
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
    synchronized (lock) {
      return pendingBytes;
    }
  }

  /**
   * Returns the next frame without waiting, or null if there is none now. Its arrays must not be
   * modified: other clients share them.
   */
  public Frame poll() {
    boolean finishedNow;
    synchronized (lock) {
      if (!items.isEmpty()) {
        Frame frame = next(items.poll());
        pendingBytes -= frame.length();
        if (behind && items.isEmpty()) {
          caughtUp();
        }
        return frame;
      }
      writerWaiting = true;
      finishedNow = state != State.OPEN && !endReported;
      endReported |= finishedNow;
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
    while (true) {
      synchronized (lock) {
        takerParked = items.isEmpty() && state == State.OPEN;
        if (!takerParked) {
          break;
        }
        if (taker != Thread.currentThread()) {
          taker = Thread.currentThread();
        }
      }
      // Parked outside the monitor, so that a virtual thread waiting here pins no carrier.
      LockSupport.park(this);
      if (Thread.interrupted()) {
        synchronized (lock) {
          takerParked = false;
        }
        throw new InterruptedException();
      }
    }
    return poll();
  }

  /**
   * Whether the writer should end the response: the client was closed or dropped, or the library is
   * shutting down and every queued frame was taken.
   */
  public boolean isFinished() {
    synchronized (lock) {
      return state == State.ENDED || (state == State.DRAINING && items.isEmpty());
    }
  }

  /**
   * Whether the stream ended without draining, its queued frames discarded: the client went away,
   * a write failed, the client was too slow, or the library stopped waiting for it. A
   * non-blocking writer then ends the response at once, without waiting for a write in progress.
   */
  public boolean isDiscarded() {
    synchronized (lock) {
      return state == State.ENDED;
    }
  }

  /** Sets the callback that a non-blocking writer waits on; see the class description. */
  public void onAvailable(Runnable callback) {
    synchronized (lock) {
      this.availableCallback = callback;
    }
  }

  /** Sets the callback that runs if the library drops this client; see the class description. */
  public void onAbort(Runnable callback) {
    synchronized (lock) {
      this.abortCallback = callback;
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
    offer(message.frame(encoder, url.spelling()), true, null, 0);
  }

  /**
   * Queues the message at {@code position} of {@code entry}'s topic ring, where it stays until
   * this stream takes it. Called by the topic, on the delivery thread.
   */
  void onLive(Topic.Entry entry, long position, Message message) {
    offer(message.frame(encoder, entry.url().spelling()), true, entry, position);
  }

  /** Whether {@code entry} has, or can still get, a slot of its own in this stream. */
  private boolean hasSlot(Topic.Entry entry) {
    return entry.slot() >= 0 || entryCount < MAX_SLOTS;
  }

  /** Queues a heartbeat if nothing was queued for {@code intervalNanos}. */
  void heartbeatIfIdle(long nowNanos, long intervalNanos) {
    if (nowNanos - lastFrameNanos >= intervalNanos) {
      offer(heartbeat, false, null, 0);
    }
  }

  void attach(Subscription subscription) {
    boolean ended;
    synchronized (lock) {
      this.subscription = subscription;
      ended = state != State.OPEN;
    }
    if (ended) {
      subscription.close();
    }
  }

  /** Ends the stream after the writer has taken what is queued; nothing new is queued. */
  void finish() {
    Subscription toClose;
    Runnable wake;
    Thread parked;
    synchronized (lock) {
      if (state != State.OPEN) {
        return;
      }
      state = State.DRAINING;
      holdQueuedMessages();
      toClose = subscription;
      wake = takeWakeup();
      parked = parkedTaker();
    }
    LockSupport.unpark(parked);
    closeAndRun(toClose, wake, null);
  }

  /** Ends the stream at once, running the abort callback so that a blocked writer lets go. */
  void abort() {
    end(true);
  }

  /**
   * Queues {@code frame}, or drops the client if it would pass the bound; true if queued. A
   * message's frame is counted before any writer can see it. With an {@code entry}, the frame is
   * the one of the message at {@code position} in the entry's topic ring, and only the position is
   * queued.
   */
  private boolean offer(Frame frame, boolean message, Topic.Entry entry, long position) {
    Runnable wake = null;
    Thread parked = null;
    long overflow = 0;
    Ending ending = null;
    synchronized (lock) {
      if (state != State.OPEN) {
        if (entry != null) {
          // Draining, every queued position was turned into its frame; ended, none is left.
          entry.taken(position);
        }
        return false;
      }
      int length = frame.length();
      if (!items.isEmpty() && pendingBytes + length > maxPendingBytes) {
        overflow = pendingBytes + length;
        // Ended in this same step: no writer may take a position the ring has let go of since.
        ending = endLocked(true);
        if (entry != null) {
          entry.release();
        }
      } else {
        if (entry != null && hasSlot(entry)) {
          items.add(item(entry, position));
          behind |= items.size() >= BEHIND_ITEMS;
        } else {
          if (entry != null) {
            entry.taken(position);
          }
          items.add(OTHER);
          others.add(frame);
        }
        pendingBytes += length;
        if (message) {
          counters.messagesDelivered.increment();
          counters.bytesDelivered.add(length);
        }
        lastFrameNanos = System.nanoTime();
        wake = takeWakeup();
        parked = parkedTaker();
      }
    }

    if (overflow > 0) {
      log.warn("Dropping client {}: {} bytes would be pending, over the bound of {}",
          client, overflow, maxPendingBytes);
      counters.clientsDroppedSlow.increment();
      complete(ending);
      return false;
    }
    LockSupport.unpark(parked);
    run(wake);
    return true;
  }

  /**
   * The queue item for {@code position} of {@code entry}'s ring: the entry's slot in this stream
   * in the top bits, the position below. An entry gets its slot the first time; that one store is
   * the only reference a live delivery writes here. Under the lock.
   */
  private long item(Topic.Entry entry, long position) {
    int slot = entry.slot();
    if (slot < 0) {
      if (entryCount == entries.length) {
        entries = Arrays.copyOf(entries, entryCount * 2);
      }
      slot = entryCount++;
      entries[slot] = entry;
      entry.slot(slot);
    }
    return ((long) slot << POSITION_BITS) | position;
  }

  /** The frame of a queue item just taken. Under the lock. */
  private Frame next(long item) {
    if (item == OTHER) {
      return others.poll();
    }
    Topic.Entry entry = entries[(int) (item >>> POSITION_BITS)];
    long position = item & POSITION_MASK;
    Message message = entry.ring().get(position);
    entry.taken(position);
    return message.frame(encoder, entry.url().spelling());
  }

  /**
   * Asks the topics to let go of the backlog this stream held, now taken. The journal's lock,
   * which releasing takes, never calls out, so taking it here is safe. Under the lock.
   */
  private void caughtUp() {
    behind = false;
    for (int slot = 0; slot < entryCount; slot++) {
      entries[slot].topic().releaseSoon();
    }
  }

  /** The thread parked in {@link #take()}, if any, which the caller unparks. Under the lock. */
  private Thread parkedTaker() {
    if (!takerParked) {
      return null;
    }
    takerParked = false;
    return taker;
  }

  private void end(boolean abort) {
    Ending ending;
    synchronized (lock) {
      ending = endLocked(abort);
    }
    complete(ending);
  }

  /** What ending a stream leaves to do once the lock is released. */
  private record Ending(
      Subscription toClose, Runnable wake, Runnable abortWriter, boolean report, Thread parked) {}

  /**
   * Ends the stream and discards its queue; returns what is left to do outside the lock, or null
   * if it had ended and was reported already. Under the lock.
   */
  private Ending endLocked(boolean abort) {
    if (state == State.ENDED && endReported) {
      return null;
    }
    state = State.ENDED;
    dropQueue();
    Runnable abortWriter = abort ? abortCallback : null;
    abortCallback = null;
    boolean report = !endReported;
    endReported = true;
    return new Ending(subscription, takeWakeup(), abortWriter, report, parkedTaker());
  }

  /** Unsubscribes, runs the callbacks and reports the end, without the lock. */
  private void complete(Ending ending) {
    if (ending == null) {
      return;
    }
    LockSupport.unpark(ending.parked());
    closeAndRun(ending.toClose(), ending.wake(), ending.abortWriter());
    if (ending.report()) {
      onEnd.accept(this);
    }
  }

  /**
   * Discards what is queued, lets the topic rings go of it, and forgets the entries, so that a
   * stream kept after it ended keeps no ring alive. Nothing is queued afterwards. Under the lock.
   */
  private void dropQueue() {
    items.clear();
    others.clear();
    pendingBytes = 0;
    for (int slot = 0; slot < entryCount; slot++) {
      if (entries[slot] != null) {
        entries[slot].release();
        entries[slot] = null;
      }
    }
  }

  /**
   * Turns every queued ring position into the frame it stands for, because the subscription is
   * about to close and its topics then keep nothing for this stream. Under the lock.
   */
  private void holdQueuedMessages() {
    ArrayDeque<Frame> frames = new ArrayDeque<>();
    int count = 0;
    while (!items.isEmpty()) {
      frames.add(next(items.poll()));
      count++;
    }
    others.clear();
    others.addAll(frames);
    for (int i = 0; i < count; i++) {
      items.add(OTHER);
    }
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
