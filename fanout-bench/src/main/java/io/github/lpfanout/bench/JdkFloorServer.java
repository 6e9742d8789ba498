package io.github.lpfanout.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The JDK HttpServer with nothing of the library in it, run as the baseline with {@code
 * --baseline-server=jdk}: each frame the feed pushes is written to the response stream of every
 * client of its topic and flushed, one write per client per frame, by a few writer threads that
 * each own a share of the streams. Beside the JDK transport it tells what the JDK server's own
 * request handling and write path cost, apart from what the library adds to them.
 *
 * <p>It has no bound for a client that stops reading: a blocked write holds its writer, and every
 * client of that writer waits. Only runs whose clients all read belong against it. A client that
 * leaves is noticed at the next write to it, as the JDK server does not watch a connection while
 * its exchange is open; the benchmark's warm-up sends frames until the streams it left are gone.
 */
final class JdkFloorServer implements AutoCloseable {
  private final HttpServer server;
  private final SocketChannel feed;
  private final ExecutorService requests = Executors.newCachedThreadPool();
  private final Writer[] writers;
  private final Thread reader;
  private final AtomicInteger clients = new AtomicInteger();
  private final AtomicInteger nextWriter = new AtomicInteger();
  private volatile boolean closed;

  JdkFloorServer(int threads, int feedPort) throws IOException {
    // As the benchmark runs the JDK transport: without it, the JDK server leaves Nagle's
    // algorithm on, and a frame waits for the client's acknowledgement of the one before.
    System.setProperty("sun.net.httpserver.nodelay", "true");
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
    server.createContext("/t/", this::handle);
    server.setExecutor(requests);
    feed = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), feedPort));
    writers = new Writer[threads];
    for (int i = 0; i < threads; i++) {
      writers[i] = new Writer("floor-writer-" + (i + 1));
    }
    reader = new Thread(this::readFeed, "floor-feed");
    reader.setDaemon(true);
    server.start();
    reader.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  int clients() {
    return clients.get();
  }

  @Override
  public void close() {
    closed = true;
    server.stop(0);
    requests.shutdownNow();
    for (Writer writer : writers) {
      writer.thread.interrupt();
    }
    try {
      feed.close();
    } catch (IOException ignored) {
      // Closing either way.
    }
  }

  /** Answers {@code GET /t/<topic>[,<topic>...]} with a stream that stays open. */
  private void handle(HttpExchange exchange) throws IOException {
    Set<Integer> topics = Workload.baselineTopics(exchange.getRequestURI().getPath());
    if (topics == null) {
      exchange.sendResponseHeaders(404, -1);
      exchange.close();
      return;
    }
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
    exchange.getResponseHeaders().set("Cache-Control", "no-cache");
    exchange.sendResponseHeaders(200, 0);
    Stream stream = new Stream(exchange);
    clients.incrementAndGet();
    Writer writer = writers[Math.floorMod(nextWriter.getAndIncrement(), writers.length)];
    for (int topic : topics) {
      writer.subscribers(topic).add(stream);
    }
    // A failure here is noticed, and counted, at the stream's first frame.
    stream.out.flush();
  }

  /** Reads the feed's records and hands each frame, out of its chunk, to every writer. */
  private void readFeed() {
    ByteBuffer in = ByteBuffer.allocate(1024 * 1024);
    try {
      while (!closed) {
        if (feed.read(in) < 0) {
          return;
        }
        in.flip();
        while (in.remaining() >= 8) {
          int topic = in.getInt(in.position());
          int length = in.getInt(in.position() + 4);
          if (in.remaining() < length + 8) {
            break;
          }
          byte[] chunk = new byte[length];
          in.position(in.position() + 8);
          in.get(chunk);
          byte[] frame = unchunk(chunk);
          for (Writer writer : writers) {
            writer.jobs.add(new Job(topic, frame));
          }
        }
        in.compact();
        if (!in.hasRemaining()) {
          // A record larger than the buffer: keep what was read in one that holds it whole.
          ByteBuffer bigger = ByteBuffer.allocate(Math.max(2 * in.capacity(), pendingRecord(in)));
          in.flip();
          bigger.put(in);
          in = bigger;
        }
      }
    } catch (IOException e) {
      if (!closed) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** The size of the record that starts {@code in}, which is in write mode, or 0 if unknown. */
  private static int pendingRecord(ByteBuffer in) {
    return in.position() >= 8 ? in.getInt(4) + 8 : 0;
  }

  /** The frame inside one HTTP chunk, as the feed sends it: the JDK server chunks it again. */
  private static byte[] unchunk(byte[] chunk) {
    int lineEnd = 0;
    while (chunk[lineEnd] != '\r') {
      lineEnd++;
    }
    int size = Integer.parseInt(new String(chunk, 0, lineEnd, StandardCharsets.US_ASCII), 16);
    byte[] frame = new byte[size];
    System.arraycopy(chunk, lineEnd + 2, frame, 0, size);
    return frame;
  }

  private record Job(int topic, byte[] frame) {}

  private final class Stream {
    final HttpExchange exchange;
    final OutputStream out;
    boolean open = true; // its writer's thread only, once subscribed

    Stream(HttpExchange exchange) {
      this.exchange = exchange;
      this.out = exchange.getResponseBody();
    }

    /** Writes and flushes {@code frame}; a stream that fails is closed and counted gone. */
    boolean send(byte[] frame) {
      if (!open) {
        return false;
      }
      try {
        out.write(frame);
        out.flush();
        return true;
      } catch (IOException e) {
        open = false;
        clients.decrementAndGet();
        exchange.close();
        return false;
      }
    }
  }

  /** One writer thread and the streams it owns, by topic. */
  private final class Writer {
    final LinkedBlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
    final List<List<Stream>> topics = new CopyOnWriteArrayList<>();
    final Thread thread;

    Writer(String name) {
      thread = new Thread(this::run, name);
      thread.setDaemon(true);
      thread.start();
    }

    synchronized List<Stream> subscribers(int topic) {
      while (topics.size() <= topic) {
        topics.add(new CopyOnWriteArrayList<>());
      }
      return topics.get(topic);
    }

    private void run() {
      List<Stream> gone = new ArrayList<>();
      try {
        while (!closed) {
          Job job = jobs.take();
          if (job.topic() >= topics.size()) {
            continue;
          }
          List<Stream> subscribers = topics.get(job.topic());
          for (Stream stream : subscribers) {
            if (!stream.send(job.frame())) {
              gone.add(stream);
            }
          }
          if (!gone.isEmpty()) {
            subscribers.removeAll(gone);
            gone.clear();
          }
        }
      } catch (InterruptedException e) {
        // Closed.
      }
    }
  }
}
