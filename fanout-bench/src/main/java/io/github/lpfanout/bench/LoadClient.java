package io.github.lpfanout.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Thousands of streaming clients on a few NIO threads. Each client opens one connection, sends one
 * {@code GET}, and reads frames for as long as it is open; every whole frame counts as a delivery
 * and its latency, from the stamp in its body to the read that completed it, is recorded.
 *
 * <p>Connections are opened at most {@code window} at a time (opened and not yet answered), so that
 * a burst of connects measures the server's admission rather than the listen backlog. Closing
 * resets every connection, which leaves no port in {@code TIME_WAIT}.
 */
final class LoadClient implements AutoCloseable {
  private static final long MAX_MICROS = TimeUnit.MINUTES.toMicros(10);

  private final Worker[] workers;
  private final boolean sse;
  private final boolean trackGaps;
  private final Recorder latency = new Recorder(MAX_MICROS, 3);
  private final Recorder admission = new Recorder(MAX_MICROS, 3);
  private final LongAdder deliveries = new LongAdder();
  private final LongAdder gaps = new LongAdder();
  private final LongAdder joinGaps = new LongAdder();
  private final LongAdder bytes = new LongAdder();
  private final AtomicInteger established = new AtomicInteger();
  private final AtomicInteger failed = new AtomicInteger();
  /** Why streams failed: an answer's status, or {@code lost} for a connection that ended first. */
  private final Map<String, LongAdder> failures = new ConcurrentSkipListMap<>();
  private final AtomicInteger disconnected = new AtomicInteger();
  private final AtomicLong firstConnectAt = new AtomicLong(Long.MAX_VALUE);
  private final AtomicLong lastEstablishedAt = new AtomicLong();
  private int next;

  /**
   * @param threads NIO threads the connections are spread over
   * @param sse whether the streams carry {@code sse} frames; {@code bin} otherwise
   * @param trackGaps whether to count sequence numbers skipped on a connection, which only makes
   *     sense when every connection reads one URL
   * @param window connections opened and not yet answered, at most, across all threads
   */
  LoadClient(int threads, boolean sse, boolean trackGaps, int window) throws IOException {
    this.sse = sse;
    this.trackGaps = trackGaps;
    this.workers = new Worker[threads];
    for (int i = 0; i < threads; i++) {
      workers[i] = new Worker("bench-client-" + (i + 1), Math.max(1, window / threads));
    }
    for (Worker worker : workers) {
      worker.thread.start();
    }
  }

  /** Opens {@code count} streams to {@code address}, the i-th asking for {@code target(i)}. */
  void open(InetSocketAddress address, int count, IntFunction<String> target) {
    String host = "Host: 127.0.0.1:" + address.getPort() + "\r\n";
    for (int i = 0; i < count; i++) {
      byte[] request = ("GET " + target.apply(i) + " HTTP/1.1\r\n" + host + "\r\n")
          .getBytes(StandardCharsets.ISO_8859_1);
      Worker worker = workers[next++ % workers.length];
      worker.pending.add(new Connection(worker, address, request));
    }
    for (Worker worker : workers) {
      worker.selector.wakeup();
    }
  }

  /**
   * Waits until {@code count} streams were answered, well or badly, or until {@code timeoutNanos}
   * passed. Returns how many streams are established.
   */
  int awaitAnswered(int count, long timeoutNanos) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutNanos;
    while (established.get() + failed.get() < count && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    return established.get();
  }

  int established() {
    return established.get();
  }

  int failed() {
    return failed.get();
  }

  /** How many streams failed for each reason, as {@code 503 x12, lost x3}; empty if none did. */
  String failures() {
    StringJoiner joined = new StringJoiner(", ");
    failures.forEach((reason, count) -> joined.add(reason + " x" + count.sum()));
    return joined.toString();
  }

  private void fail(String reason) {
    failed.incrementAndGet();
    failures.computeIfAbsent(reason, r -> new LongAdder()).increment();
  }

  /** Streams that ended after they were established. */
  int disconnected() {
    return disconnected.get();
  }

  long deliveries() {
    return deliveries.sum();
  }

  /** Sequence numbers skipped on a connection after its second frame. */
  long gaps() {
    return gaps.sum();
  }

  /**
   * Sequence numbers skipped between a connection's first frame and its second. The first frame
   * may be the latest message, given on joining, and the proxy rightly delivers nobody an answer
   * that its topic's poller got as it stopped for want of subscribers: so a gap here can be the
   * topic's restart, while one after it can only be a frame the proxy skipped.
   */
  long joinGaps() {
    return joinGaps.sum();
  }

  long bytes() {
    return bytes.sum();
  }

  /** Streams established per second, from the first connect to the last first byte. */
  double admissionRate() {
    long first = firstConnectAt.get();
    long last = lastEstablishedAt.get();
    int count = established.get();
    return count == 0 || last <= first ? 0 : count / ((last - first) / 1e9);
  }

  /** Connect-to-first-byte times in microseconds, since the last call. */
  Histogram admissionMicros() {
    return admission.getIntervalHistogram();
  }

  /** Frame latencies in microseconds recorded since the last call. */
  Histogram latencyMicros() {
    return latency.getIntervalHistogram();
  }

  /** Resets every connection and stops the threads. */
  @Override
  public void close() throws InterruptedException {
    for (Worker worker : workers) {
      worker.closing = true;
      worker.selector.wakeup();
    }
    for (Worker worker : workers) {
      worker.thread.join(10_000);
    }
  }

  private final class Worker {
    final Thread thread;
    final Selector selector;
    final ConcurrentLinkedQueue<Connection> pending = new ConcurrentLinkedQueue<>();
    final List<Connection> connections = new ArrayList<>();
    final ByteBuffer buffer = ByteBuffer.allocate(256 * 1024);
    final int window;
    int inFlight;
    long now;
    volatile boolean closing;

    Worker(String name, int window) throws IOException {
      this.selector = Selector.open();
      this.window = window;
      this.thread = new Thread(this::run, name);
      thread.setDaemon(true);
    }

    private void run() {
      try {
        while (!closing) {
          startConnects();
          selector.select(5);
          for (SelectionKey key : selector.selectedKeys()) {
            handle(key);
          }
          selector.selectedKeys().clear();
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      } finally {
        for (Connection connection : connections) {
          connection.reset();
        }
        try {
          selector.close();
        } catch (IOException ignored) {
          // Nothing to do about a selector that fails to close at the end of a run.
        }
      }
    }

    private void startConnects() {
      while (inFlight < window) {
        Connection connection = pending.poll();
        if (connection == null) {
          return;
        }
        inFlight++;
        connection.connect();
      }
    }

    private void handle(SelectionKey key) {
      Connection connection = (Connection) key.attachment();
      if (!key.isValid()) {
        return;
      }
      try {
        if (key.isConnectable()) {
          connection.finishConnect();
        } else {
          if (key.isWritable()) {
            connection.writeRequest();
          }
          if (key.isValid() && key.isReadable()) {
            connection.read();
          }
        }
      } catch (IOException e) {
        connection.lost();
      }
    }
  }

  private final class Connection implements FrameReader.Listener {
    private final Worker worker;
    private final InetSocketAddress address;
    private final ByteBuffer request;
    private final FrameReader reader = new FrameReader(sse, this);
    private SocketChannel channel;
    private SelectionKey key;
    private long connectAt;
    private long lastSeq = -1;
    private boolean secondFrameSeen;
    private boolean answered;
    private boolean up;
    private boolean open;

    Connection(Worker worker, InetSocketAddress address, byte[] request) {
      this.worker = worker;
      this.address = address;
      this.request = ByteBuffer.wrap(request);
    }

    void connect() {
      connectAt = Stamp.now();
      firstConnectAt.accumulateAndGet(System.nanoTime(), Math::min);
      try {
        channel = SocketChannel.open();
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        worker.connections.add(this);
        open = true;
        if (channel.connect(address)) {
          key = channel.register(worker.selector, 0, this);
          connected();
        } else {
          key = channel.register(worker.selector, SelectionKey.OP_CONNECT, this);
        }
      } catch (IOException e) {
        lost();
      }
    }

    void finishConnect() throws IOException {
      if (channel.finishConnect()) {
        connected();
      }
    }

    private void connected() throws IOException {
      key.interestOps(SelectionKey.OP_READ);
      writeRequest();
    }

    void writeRequest() throws IOException {
      channel.write(request);
      key.interestOps(request.hasRemaining()
          ? SelectionKey.OP_READ | SelectionKey.OP_WRITE
          : SelectionKey.OP_READ);
    }

    void read() throws IOException {
      ByteBuffer buffer = worker.buffer;
      for (int reads = 0; reads < 4; reads++) {
        buffer.clear();
        int n = channel.read(buffer);
        if (n < 0) {
          lost();
          return;
        }
        if (n == 0) {
          return;
        }
        worker.now = Stamp.now();
        bytes.add(n);
        reader.read(buffer.array(), 0, n);
        if (reader.ended()) {
          lost();
          return;
        }
        if (n < buffer.capacity()) {
          return;
        }
      }
    }

    @Override
    public void onStatus(int status) {
      answer();
      if (status == 200) {
        up = true;
        established.incrementAndGet();
        admission.recordValue(Math.min(MAX_MICROS, (worker.now - connectAt) / 1000));
        lastEstablishedAt.accumulateAndGet(System.nanoTime(), Math::max);
      } else {
        fail(Integer.toString(status));
      }
    }

    @Override
    public void onFrame(long time, long seq) {
      deliveries.increment();
      if (time >= 0) {
        latency.recordValue(Math.max(0, Math.min(MAX_MICROS, (worker.now - time) / 1000)));
      }
      if (trackGaps && seq >= 0) {
        if (lastSeq >= 0 && seq > lastSeq + 1) {
          (secondFrameSeen ? gaps : joinGaps).add(seq - lastSeq - 1);
        }
        secondFrameSeen |= lastSeq >= 0;
        lastSeq = seq;
      }
    }

    private void answer() {
      if (!answered) {
        answered = true;
        worker.inFlight--;
      }
    }

    /** The connection failed or the server ended it. */
    void lost() {
      if (!open) {
        return;
      }
      if (up) {
        disconnected.incrementAndGet();
      } else if (!answered) {
        answer();
        fail("lost");
      }
      reset();
    }

    void reset() {
      if (!open) {
        return;
      }
      open = false;
      try {
        if (channel.isOpen()) {
          channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        }
        channel.close();
      } catch (IOException ignored) {
        // The connection is being thrown away; a failure to reset it changes nothing.
      }
    }
  }
}
