package io.github.lpfanout.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The long-poll upstream the proxy polls: {@code GET /u/<n>} is held until the next instant of
 * topic {@code n}, then answered with a stamped body of the configured size.
 *
 * <p>A poll that arrives after an instant, but less than one period after it, is answered at once;
 * an instant that no poll claims within its period is missed, and counted. The stamp is taken just
 * before the response is written, so that latency runs from the upstream's write. One NIO thread
 * reads the polls; the pacer's thread writes most responses.
 */
final class Upstream implements AutoCloseable {
  private final ServerSocketChannel server;
  private final Selector selector;
  private final Thread thread;
  private final Pacer pacer;
  private final int bodyBytes;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong missed = new AtomicLong();
  private volatile Topic[] topics = new Topic[0];
  private volatile boolean closed;

  Upstream(int bodyBytes) throws IOException {
    this.bodyBytes = bodyBytes;
    this.server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    server.configureBlocking(false);
    this.selector = Selector.open();
    server.register(selector, SelectionKey.OP_ACCEPT);
    this.pacer = new Pacer("bench-upstream-pacer", this::instant);
    this.thread = new Thread(this::run, "bench-upstream");
    thread.setDaemon(true);
    thread.start();
  }

  /** The URL of topic {@code n}. */
  String url(int n) {
    return "http://127.0.0.1:" + server.socket().getLocalPort() + "/u/" + n;
  }

  /**
   * Serves {@code count} topics, each answering {@code rate} times a second, spread over their
   * period or all together; a rate of zero holds every poll. Starts a new sequence of instants.
   */
  void schedule(int count, double rate, boolean spread) {
    Topic[] current = topics;
    if (current.length != count) {
      Topic[] next = new Topic[count];
      for (int i = 0; i < count; i++) {
        next[i] = i < current.length ? current[i] : new Topic(bodyBytes);
      }
      topics = next;
    }
    for (Topic topic : topics) {
      topic.reset();
    }
    pacer.schedule(count, rate, spread);
  }

  /** Responses written so far. */
  long sent() {
    return sent.get();
  }

  /** Instants that passed with no poll to answer. */
  long missed() {
    return missed.get();
  }

  private void instant(int n, long due, long period) {
    Topic[] current = topics;
    if (n < current.length) {
      current[n].instant(due, period);
    }
  }

  private void run() {
    ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
    while (!closed) {
      try {
        selector.select(100);
        for (SelectionKey key : selector.selectedKeys()) {
          if (!key.isValid()) {
            continue;
          }
          if (key.isAcceptable()) {
            SocketChannel channel = server.accept();
            if (channel != null) {
              channel.configureBlocking(false);
              channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
              channel.register(selector, SelectionKey.OP_READ, new Poll(channel));
            }
          } else if (key.isReadable()) {
            read(key, buffer);
          }
        }
        selector.selectedKeys().clear();
      } catch (IOException e) {
        if (!closed) {
          throw new UncheckedIOException(e);
        }
      }
    }
  }

  private void read(SelectionKey key, ByteBuffer buffer) {
    Poll poll = (Poll) key.attachment();
    buffer.clear();
    int n;
    try {
      n = poll.channel.read(buffer);
    } catch (IOException e) {
      n = -1;
    }
    if (n < 0) {
      key.cancel();
      closeQuietly(poll.channel);
      return;
    }

    for (int i = 0; i < n; i++) {
      String target = poll.add(buffer.get(i));
      if (target != null) {
        Topic[] current = topics;
        int topic = topicOf(target);
        if (topic >= 0 && topic < current.length) {
          current[topic].polled(poll.channel);
        } else {
          closeQuietly(poll.channel);
        }
      }
    }
  }

  private static int topicOf(String target) {
    if (!target.startsWith("/u/")) {
      return -1;
    }
    try {
      return Integer.parseInt(target.substring(3));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    pacer.close();
    selector.wakeup();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (SelectionKey key : selector.keys()) {
      closeQuietly(key.channel());
    }
    selector.close();
  }

  private static void closeQuietly(java.nio.channels.Channel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // Closing a benchmark connection: nothing to do about a failure.
    }
  }

  /** The request being read on one connection. */
  private static final class Poll {
    final SocketChannel channel;
    private final StringBuilder line = new StringBuilder();
    private String target;
    private boolean lineIsEmpty = true;

    Poll(SocketChannel channel) {
      this.channel = channel;
    }

    /** Adds one byte; returns the request target once the whole request head has arrived. */
    String add(byte b) {
      if (b == '\r') {
        return null;
      }
      if (b != '\n') {
        line.append((char) b);
        lineIsEmpty = false;
        return null;
      }
      if (lineIsEmpty) {
        String done = target;
        target = null;
        return done;
      }
      if (target == null) {
        String[] parts = line.toString().split(" ");
        target = parts.length > 1 ? parts[1] : "";
      }
      line.setLength(0);
      lineIsEmpty = true;
      return null;
    }
  }

  /** One URL: the poll held for it, and an instant it owes a poll that has not come yet. */
  private final class Topic {
    private final byte[] body;
    private final byte[] head;
    private final ByteBuffer response;
    private SocketChannel held;
    private long owedDue = -1;
    private long period = Long.MAX_VALUE;
    private long seq;

    Topic(int bodyBytes) {
      this.body = Stamp.template(bodyBytes);
      this.head = ("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
          + bodyBytes + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
      this.response = ByteBuffer.allocateDirect(head.length + bodyBytes);
    }

    synchronized void reset() {
      owedDue = -1;
    }

    synchronized void polled(SocketChannel channel) {
      long now = Stamp.now();
      if (owedDue >= 0 && now - owedDue < period) {
        owedDue = -1;
        respond(channel);
      } else {
        if (owedDue >= 0) {
          missed.incrementAndGet();
          owedDue = -1;
        }
        held = channel;
      }
    }

    synchronized void instant(long due, long period) {
      this.period = period;
      if (held != null) {
        SocketChannel channel = held;
        held = null;
        respond(channel);
      } else {
        if (owedDue >= 0) {
          missed.incrementAndGet();
        }
        owedDue = due;
      }
    }

    private void respond(SocketChannel channel) {
      Stamp.write(body, 0, Stamp.now(), seq++);
      response.clear();
      response.put(head).put(body).flip();
      try {
        while (response.hasRemaining()) {
          if (channel.write(response) == 0) {
            LockSupport.parkNanos(20_000);
          }
          if (closed) {
            return;
          }
        }
        sent.incrementAndGet();
      } catch (IOException e) {
        closeQuietly(channel);
      }
    }
  }
}
