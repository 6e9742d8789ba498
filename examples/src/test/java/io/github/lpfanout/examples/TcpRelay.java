package io.github.lpfanout.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP relay on loopback in front of a server, so that a test can drop every connection a
 * browser has open and refuse its reconnects for a while, as a flaky network or a restarting
 * load balancer would, without touching the server.
 */
final class TcpRelay implements AutoCloseable {
  private final ServerSocket listener;
  private final int target;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean refusing;

  TcpRelay(int target) throws IOException {
    this.target = target;
    this.listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    Thread acceptor = new Thread(this::accept, "tcp-relay");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The port browsers connect to. */
  int port() {
    return listener.getLocalPort();
  }

  /** Closes every relayed connection and closes new ones at once until {@link #resume()}. */
  void dropAndRefuse() {
    refusing = true;
    for (Socket socket : open) {
      closeQuietly(socket);
    }
  }

  /** Relays new connections again. */
  void resume() {
    refusing = false;
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        if (refusing) {
          client.close();
          continue;
        }
        Socket server = new Socket(InetAddress.getByName("127.0.0.1"), target);
        open.add(client);
        open.add(server);
        pump(client, server);
        pump(server, client);
      } catch (IOException e) {
        // The listener was closed, or one connection failed; the others go on.
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread thread = new Thread(() -> {
      byte[] buffer = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // Either side went away.
      } finally {
        closeQuietly(from);
        closeQuietly(to);
        open.remove(from);
        open.remove(to);
      }
    }, "tcp-relay-pump");
    thread.setDaemon(true);
    thread.start();
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Closing is all that was wanted.
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    dropAndRefuse();
  }
}
