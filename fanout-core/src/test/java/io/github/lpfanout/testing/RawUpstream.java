package io.github.lpfanout.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * An upstream on loopback that writes exactly the bytes a test scripts, which no HTTP server
 * library does when they are malformed, and can reset the connection at a chosen moment. Each
 * connection carries one request: the upstream reads its head, records when it arrived ({@link
 * System#nanoTime()}), and plays the next scripted {@link Answer}. A connection that finds no
 * script is held for 200 ms, as a long-poll server holds a request while it has no news, and then
 * answered 304.
 */
public final class RawUpstream implements AutoCloseable {

  /** What to do with one connection once its request head was read. */
  @FunctionalInterface
  public interface Answer {
    void play(Socket socket) throws IOException, InterruptedException;
  }

  private static final long HOLD_MILLIS = 200;

  private final ServerSocket serverSocket;
  private final BlockingQueue<Answer> script = new LinkedBlockingQueue<>();
  private final List<Long> arrivals = new CopyOnWriteArrayList<>();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final CountDownLatch closing = new CountDownLatch(1);
  private final Thread acceptor;

  public RawUpstream() throws IOException {
    serverSocket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    acceptor = new Thread(this::acceptLoop, "raw-upstream-" + serverSocket.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private void acceptLoop() {
    while (!serverSocket.isClosed()) {
      try {
        Socket socket = serverSocket.accept();
        sockets.add(socket);
        Thread handler = new Thread(() -> serve(socket), acceptor.getName() + "-conn");
        handler.setDaemon(true);
        handler.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      readHead(socket.getInputStream());
      arrivals.add(System.nanoTime());
      Answer answer = script.poll(HOLD_MILLIS, TimeUnit.MILLISECONDS);
      if (answer == null && closing.getCount() > 0) {
        answer = bytes("HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
      }
      if (answer != null) {
        answer.play(socket);
      }
    } catch (IOException | InterruptedException e) {
      // The client went away, or the upstream is closing: nothing more to play.
    }
  }

  private static void readHead(InputStream in) throws IOException {
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < end.length) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("the request ended before its head did");
      }
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
    }
  }

  /** Scripts the answer for the next connection that finds none. */
  public RawUpstream enqueue(Answer answer) {
    script.add(answer);
    return this;
  }

  /** The port it listens on. */
  public int port() {
    return serverSocket.getLocalPort();
  }

  /** The URL of {@code path} on this upstream. */
  public String url(String path) {
    return "http://127.0.0.1:" + serverSocket.getLocalPort() + path;
  }

  /** When each request arrived, in order. */
  public List<Long> arrivals() {
    return List.copyOf(arrivals);
  }

  /** Waits up to 10 seconds for {@code count} requests and returns their arrival times. */
  public List<Long> awaitArrivals(int count) {
    Await.until(count + " requests at " + url("/"), () -> arrivals.size() >= count);
    return arrivals().subList(0, count);
  }

  /** Writes {@code text} (ISO-8859-1) and closes the connection cleanly. */
  public static Answer bytes(String text) {
    return socket -> write(socket.getOutputStream(), text);
  }

  /** A complete 200 with an ASCII {@code body}, on a connection that then closes. */
  public static Answer ok(String body) {
    return bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
        + body.length() + "\r\nConnection: close\r\n\r\n" + body);
  }

  /** Resets the connection (a TCP RST) without writing a byte. */
  public static Answer reset() {
    return RawUpstream::resetNow;
  }

  /**
   * Writes {@code head} and {@code partialBody}, waits up to 5 seconds for a permit of {@code
   * headsRead} (a test releases one each time the client has read a response head), then resets
   * the connection, so that the reset comes in the middle of the body.
   */
  public static Answer resetMidBody(String head, String partialBody, Semaphore headsRead) {
    return socket -> {
      write(socket.getOutputStream(), head + partialBody);
      if (!headsRead.tryAcquire(5, TimeUnit.SECONDS)) {
        throw new IOException("the client never read the response head");
      }
      resetNow(socket);
    };
  }

  private static void resetNow(Socket socket) throws IOException {
    socket.setSoLinger(true, 0);
    socket.close();
  }

  private static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  @Override
  public void close() throws IOException {
    closing.countDown();
    serverSocket.close();
    for (Socket socket : sockets) {
      socket.close();
    }
  }
}
