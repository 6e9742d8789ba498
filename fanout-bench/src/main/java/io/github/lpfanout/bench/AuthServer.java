package io.github.lpfanout.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An auth server that admits every client at once: each request, {@code POST /auth} or any other,
 * is answered {@code 200} with an empty body as soon as its head and body have arrived, on
 * keep-alive connections, by one NIO thread. It is not the JDK's HttpServer on purpose: that
 * server re-registers a connection with its selector after every exchange, which would make the
 * auth server, not the proxy, what limits admission.
 */
final class AuthServer implements AutoCloseable {
  private static final byte[] ALLOW =
      "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final ServerSocketChannel server;
  private final Selector selector;
  private final Thread thread;
  private final AtomicLong answered = new AtomicLong();
  private volatile boolean closed;

  AuthServer() throws IOException {
    server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
    server.configureBlocking(false);
    selector = Selector.open();
    server.register(selector, SelectionKey.OP_ACCEPT);
    thread = new Thread(this::run, "bench-auth");
    thread.setDaemon(true);
    thread.start();
  }

  /** The URL the proxy posts to. */
  String url() {
    return "http://127.0.0.1:" + server.socket().getLocalPort() + "/auth";
  }

  /** Decisions given so far. */
  long answered() {
    return answered.get();
  }

  private void run() {
    ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
    while (!closed) {
      try {
        selector.select(100);
        for (SelectionKey key : selector.selectedKeys()) {
          if (!key.isValid()) {
            continue;
          }
          if (key.isAcceptable()) {
            for (SocketChannel channel = server.accept(); channel != null;
                channel = server.accept()) {
              channel.configureBlocking(false);
              channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
              channel.register(selector, SelectionKey.OP_READ, new Requests());
            }
          } else if (key.isReadable()) {
            read(key, buffer);
          }
        }
        selector.selectedKeys().clear();
      } catch (IOException e) {
        if (!closed) {
          System.err.println("auth server: " + e);
        }
      }
    }
  }

  private void read(SelectionKey key, ByteBuffer buffer) {
    SocketChannel channel = (SocketChannel) key.channel();
    Requests requests = (Requests) key.attachment();
    try {
      buffer.clear();
      int n = channel.read(buffer);
      if (n < 0) {
        key.cancel();
        channel.close();
        return;
      }
      int complete = requests.read(buffer.array(), n);
      for (int i = 0; i < complete; i++) {
        ByteBuffer answer = ByteBuffer.wrap(ALLOW);
        while (answer.hasRemaining()) {
          channel.write(answer);
        }
        answered.incrementAndGet();
      }
    } catch (IOException e) {
      key.cancel();
      try {
        channel.close();
      } catch (IOException ignored) {
        // The proxy's connection is gone either way.
      }
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    selector.wakeup();
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (SelectionKey key : selector.keys()) {
      key.channel().close();
    }
    selector.close();
  }

  /** Finds where requests end on one connection: a head, then Content-Length bytes of body. */
  private static final class Requests {
    private final StringBuilder head = new StringBuilder();
    private long bodyLeft = -1;

    /** Reads {@code n} bytes and returns how many requests they completed. */
    int read(byte[] bytes, int n) {
      int complete = 0;
      int i = 0;
      while (i < n) {
        if (bodyLeft >= 0) {
          int skip = (int) Math.min(bodyLeft, n - i);
          bodyLeft -= skip;
          i += skip;
          if (bodyLeft == 0) {
            bodyLeft = -1;
            complete++;
          }
          continue;
        }
        head.append((char) bytes[i++]);
        int length = head.length();
        if (length >= 4 && head.charAt(length - 1) == '\n' && head.charAt(length - 2) == '\r'
            && head.charAt(length - 3) == '\n' && head.charAt(length - 4) == '\r') {
          bodyLeft = contentLength(head.toString());
          head.setLength(0);
          if (bodyLeft == 0) {
            bodyLeft = -1;
            complete++;
          }
        }
      }
      return complete;
    }

    private static long contentLength(String head) {
      for (String line : head.split("\r\n")) {
        if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
          return Long.parseLong(line.substring("content-length:".length()).trim());
        }
      }
      return 0;
    }
  }
}
