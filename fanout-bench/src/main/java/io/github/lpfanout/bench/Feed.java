package io.github.lpfanout.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the baseline gets instead of an upstream: at each instant of a topic, one record of {@code
 * <int32 topic><int32 length><frame bytes>} pushed down a single connection, the frame already
 * encoded and stamped just before the write. The baseline connects to the feed once.
 */
final class Feed implements AutoCloseable {
  private final ServerSocketChannel server;
  private final Pacer pacer;
  private final AtomicLong sent = new AtomicLong();
  private volatile SocketChannel channel;
  private volatile Frames[] frames = new Frames[0];
  private ByteBuffer out = ByteBuffer.allocateDirect(64 * 1024);
  private long seq;

  Feed() throws IOException {
    this.server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
    this.pacer = new Pacer("bench-feed-pacer", this::instant);
  }

  /** The port the baseline connects to. */
  int port() {
    return server.socket().getLocalPort();
  }

  /** Waits for the baseline to connect; the server process is told the port when it starts. */
  void accept() throws IOException {
    SocketChannel accepted = server.accept();
    accepted.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
    channel = accepted;
  }

  /** From now on, pushes the frames of {@code topics} at {@code rate} per topic; see Pacer. */
  void schedule(Frames[] topics, double rate, boolean spread) {
    frames = topics.clone();
    pacer.schedule(topics.length, rate, spread);
  }

  /** Records pushed so far. */
  long sent() {
    return sent.get();
  }

  private void instant(int topic, long due, long period) {
    Frames[] current = frames;
    SocketChannel target = channel;
    if (topic >= current.length || target == null) {
      return;
    }
    Frames frame = current[topic];
    byte[] bytes = frame.bytes();
    if (out.capacity() < bytes.length + 8) {
      out = ByteBuffer.allocateDirect(bytes.length + 8);
    }
    Stamp.write(bytes, frame.stampAt(), Stamp.now(), seq++);
    out.clear();
    out.putInt(topic).putInt(bytes.length).put(bytes).flip();
    try {
      while (out.hasRemaining()) {
        target.write(out);
      }
      sent.incrementAndGet();
    } catch (IOException e) {
      channel = null;
    }
  }

  @Override
  public void close() throws IOException {
    pacer.close();
    SocketChannel current = channel;
    if (current != null) {
      current.close();
    }
    server.close();
  }
}
