package io.github.lpfanout.bench;

import java.io.IOException;
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
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the bare servers that stand in for the baseline share: the driver's feed of frames, read on
 * a thread of its own, and a few writer threads that each own a share of the clients and hand
 * every frame of a topic to each of its clients in turn, one call per client per frame. A server
 * only accepts its clients and says how a frame reaches one of them.
 *
 * <p>The feed sends each frame inside an HTTP chunk; the frame is taken out of it, as these
 * servers chunk their responses themselves.
 */
final class FloorFeed implements AutoCloseable {
  /** One client of a bare server. */
  interface Client {
    /**
     * Sends {@code frame}, on the thread of the writer that owns this client; false once the
     * client is gone, which its writer then forgets.
     */
    boolean send(byte[] frame);
  }

  private final SocketChannel feed;
  private final Writer[] writers;
  private final Thread reader;
  private final AtomicInteger nextWriter = new AtomicInteger();
  private volatile boolean closed;

  /** Connects to the driver's feed at {@code feedPort} and starts {@code threads} writers. */
  FloorFeed(String name, int threads, int feedPort) throws IOException {
    feed = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), feedPort));
    writers = new Writer[threads];
    for (int i = 0; i < threads; i++) {
      writers[i] = new Writer(name + "-writer-" + (i + 1));
    }
    reader = new Thread(this::readFeed, name + "-feed");
    reader.setDaemon(true);
    reader.start();
  }

  /** How many writer threads there are. */
  int threads() {
    return writers.length;
  }

  /** Gives {@code client} to the next writer, which sends it every frame of {@code topics}. */
  void add(Client client, Set<Integer> topics) {
    Writer writer = writers[Math.floorMod(nextWriter.getAndIncrement(), writers.length)];
    for (int topic : topics) {
      writer.subscribers(topic).add(client);
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Writer writer : writers) {
      writer.thread.interrupt();
    }
    try {
      feed.close();
    } catch (IOException ignored) {
      // Closing either way.
    }
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

  /** The frame inside one HTTP chunk, as the feed sends it. */
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

  /** One writer thread and the clients it owns, by topic. */
  private final class Writer {
    final LinkedBlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
    final List<List<Client>> topics = new CopyOnWriteArrayList<>();
    final Thread thread;

    Writer(String name) {
      thread = new Thread(this::run, name);
      thread.setDaemon(true);
      thread.start();
    }

    synchronized List<Client> subscribers(int topic) {
      while (topics.size() <= topic) {
        topics.add(new CopyOnWriteArrayList<>());
      }
      return topics.get(topic);
    }

    private void run() {
      List<Client> gone = new ArrayList<>();
      try {
        while (!closed) {
          Job job = jobs.take();
          if (job.topic() >= topics.size()) {
            continue;
          }
          List<Client> subscribers = topics.get(job.topic());
          for (Client client : subscribers) {
            if (!client.send(job.frame())) {
              gone.add(client);
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
