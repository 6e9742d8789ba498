package io.github.lpfanout.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The limit the proxy is measured against: a bare non-blocking server that writes each frame the
 * feed pushes, already encoded and chunked, to every socket subscribed to its topic, with one
 * write per socket per frame, and does nothing else: no authorization, no polling, no encoding, no
 * queue but the bytes a full socket did not take.
 *
 * <p>Clients ask for {@code GET /t/<topic>[,<topic>...]} and are answered with a chunked stream
 * at once. The first of the threads accepts and reads the feed; each thread writes to its own share
 * of the sockets. A socket with more than 4 MiB waiting is dropped, as the proxy would drop it.
 */
final class BaselineServer implements BareServer {
  private static final long MAX_PENDING = 4L * 1024 * 1024;
  private static final byte[] HEAD = ("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
      + "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n")
      .getBytes(StandardCharsets.US_ASCII);

  private final ServerSocketChannel server;
  private final SocketChannel feed;
  private final Worker[] workers;
  private final AtomicInteger clients = new AtomicInteger();
  private volatile boolean closed;
  private int nextWorker;

  BaselineServer(int threads, int feedPort) throws IOException {
    server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
    server.configureBlocking(false);
    feed = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), feedPort));
    feed.configureBlocking(false);

    workers = new Worker[threads];
    for (int i = 0; i < threads; i++) {
      workers[i] = new Worker("baseline-" + (i + 1));
    }
    server.register(workers[0].selector, SelectionKey.OP_ACCEPT);
    feed.register(workers[0].selector, SelectionKey.OP_READ);
    for (Worker worker : workers) {
      worker.thread.start();
    }
  }

  @Override
  public int port() {
    return server.socket().getLocalPort();
  }

  @Override
  public int clients() {
    return clients.get();
  }

  @Override
  public String description() {
    return "the bare non-blocking server, " + workers.length + " threads";
  }

  @Override
  public void close() {
    closed = true;
    for (Worker worker : workers) {
      worker.selector.wakeup();
    }
    for (Worker worker : workers) {
      try {
        worker.thread.join(2000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private final class Worker {
    final Thread thread;
    final Selector selector;
    final ConcurrentLinkedQueue<Runnable> inbox = new ConcurrentLinkedQueue<>();
    final List<List<Client>> topics = new ArrayList<>();
    final List<Client> all = new ArrayList<>();
    ByteBuffer feedBuffer = ByteBuffer.allocateDirect(1024 * 1024);
    final ByteBuffer readBuffer = ByteBuffer.allocate(4096);

    Worker(String name) throws IOException {
      selector = Selector.open();
      thread = new Thread(this::run, name);
      thread.setDaemon(true);
    }

    private void run() {
      try {
        while (!closed) {
          selector.select(100);
          for (Runnable task = inbox.poll(); task != null; task = inbox.poll()) {
            task.run();
          }
          for (SelectionKey key : selector.selectedKeys()) {
            if (key.isValid()) {
              handle(key);
            }
          }
          selector.selectedKeys().clear();
        }
      } catch (IOException e) {
        if (!closed) {
          throw new UncheckedIOException(e);
        }
      } finally {
        for (Client client : all) {
          client.close();
        }
      }
    }

    private void handle(SelectionKey key) throws IOException {
      if (key.channel() == server) {
        accept();
      } else if (key.channel() == feed) {
        readFeed();
      } else {
        Client client = (Client) key.attachment();
        if (key.isWritable()) {
          client.flush();
        }
        if (key.isValid() && key.isReadable()) {
          client.read(readBuffer);
        }
      }
    }

    private void accept() throws IOException {
      for (SocketChannel accepted = server.accept(); accepted != null; accepted = server.accept()) {
        SocketChannel channel = accepted;
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        Worker owner = workers[nextWorker++ % workers.length];
        if (owner == this) {
          owner.adopt(channel);
        } else {
          owner.inbox.add(() -> owner.adopt(channel));
          owner.selector.wakeup();
        }
      }
    }

    private void adopt(SocketChannel channel) {
      try {
        Client client = new Client(this, channel);
        client.key = channel.register(selector, SelectionKey.OP_READ, client);
        all.add(client);
      } catch (IOException e) {
        closeQuietly(channel);
      }
    }

    private void readFeed() throws IOException {
      if (feed.read(feedBuffer) < 0) {
        closed = true;
        return;
      }
      feedBuffer.flip();
      while (feedBuffer.remaining() >= 8) {
        int topic = feedBuffer.getInt(feedBuffer.position());
        int length = feedBuffer.getInt(feedBuffer.position() + 4);
        if (length + 8 > feedBuffer.capacity()) {
          ByteBuffer bigger = ByteBuffer.allocateDirect(length + 8);
          bigger.put(feedBuffer);
          feedBuffer = bigger;
          return;
        }
        if (feedBuffer.remaining() < length + 8) {
          break;
        }
        feedBuffer.position(feedBuffer.position() + 8);
        ByteBuffer frame = ByteBuffer.allocateDirect(length);
        ByteBuffer slice = feedBuffer.slice();
        slice.limit(length);
        frame.put(slice).flip();
        feedBuffer.position(feedBuffer.position() + length);
        dispatch(topic, frame);
      }
      feedBuffer.compact();
    }

    private void dispatch(int topic, ByteBuffer frame) {
      for (Worker worker : workers) {
        if (worker != this) {
          ByteBuffer copy = frame.duplicate();
          worker.inbox.add(() -> worker.broadcast(topic, copy));
          worker.selector.wakeup();
        }
      }
      broadcast(topic, frame);
    }

    /** Writes {@code frame} to every open client of {@code topic}, dropping closed ones. */
    private void broadcast(int topic, ByteBuffer frame) {
      if (topic >= topics.size()) {
        return;
      }
      List<Client> subscribers = topics.get(topic);
      int kept = 0;
      for (int i = 0; i < subscribers.size(); i++) {
        Client client = subscribers.get(i);
        if (client.open) {
          client.send(frame);
          subscribers.set(kept++, client);
        }
      }
      subscribers.subList(kept, subscribers.size()).clear();
    }

    void subscribe(int topic, Client client) {
      while (topics.size() <= topic) {
        topics.add(new ArrayList<>());
      }
      topics.get(topic).add(client);
    }
  }

  private final class Client {
    final Worker worker;
    final SocketChannel channel;
    SelectionKey key;
    private final StringBuilder request = new StringBuilder();
    private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
    private long pendingBytes;
    private boolean streaming;
    boolean open = true;

    Client(Worker worker, SocketChannel channel) {
      this.worker = worker;
      this.channel = channel;
    }

    void read(ByteBuffer buffer) {
      buffer.clear();
      int n;
      try {
        n = channel.read(buffer);
      } catch (IOException e) {
        n = -1;
      }
      if (n < 0) {
        close();
        return;
      }
      if (streaming) {
        return;
      }
      for (int i = 0; i < n; i++) {
        request.append((char) buffer.get(i));
      }
      if (request.indexOf("\r\n\r\n") >= 0) {
        start();
      }
    }

    private void start() {
      String line = request.substring(0, request.indexOf("\r\n"));
      String[] parts = line.split(" ");
      Set<Integer> topics = Workload.baselineTopics(parts.length > 1 ? parts[1] : "");
      if (topics == null) {
        close();
        return;
      }
      streaming = true;
      clients.incrementAndGet();
      send(ByteBuffer.wrap(HEAD));
      for (int topic : topics) {
        worker.subscribe(topic, this);
      }
    }

    /** One write of {@code frame} from its start, or a copy queued behind bytes still waiting. */
    void send(ByteBuffer frame) {
      if (!pending.isEmpty()) {
        queue(frame.duplicate().position(0));
        return;
      }
      frame.position(0);
      try {
        channel.write(frame);
      } catch (IOException e) {
        close();
        return;
      }
      if (frame.hasRemaining()) {
        queue(frame.duplicate());
        key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
      }
    }

    private void queue(ByteBuffer rest) {
      pending.add(rest);
      pendingBytes += rest.remaining();
      if (pendingBytes > MAX_PENDING) {
        close();
      }
    }

    void flush() {
      try {
        while (!pending.isEmpty()) {
          ByteBuffer head = pending.peek();
          int n = channel.write(head);
          pendingBytes -= n;
          if (head.hasRemaining()) {
            return;
          }
          pending.poll();
        }
        key.interestOps(SelectionKey.OP_READ);
      } catch (IOException e) {
        close();
      }
    }

    void close() {
      if (!open) {
        return;
      }
      open = false;
      if (streaming) {
        clients.decrementAndGet();
      }
      pending.clear();
      closeQuietly(channel);
    }
  }

  private static void closeQuietly(java.nio.channels.Channel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // The client is gone either way.
    }
  }
}
