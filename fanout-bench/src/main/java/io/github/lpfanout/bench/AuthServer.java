package io.github.lpfanout.bench;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/** An auth server that admits every client at once: {@code POST /auth} answers 200, empty. */
final class AuthServer implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService executor;
  private final AtomicLong answered = new AtomicLong();

  AuthServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
    executor = Executors.newFixedThreadPool(4, runnable -> {
      Thread thread = new Thread(runnable, "bench-auth");
      thread.setDaemon(true);
      return thread;
    });
    server.setExecutor(executor);
    server.createContext("/auth", exchange -> {
      try (exchange; InputStream body = exchange.getRequestBody()) {
        body.readAllBytes();
        exchange.sendResponseHeaders(200, -1);
        answered.incrementAndGet();
      }
    });
    server.start();
  }

  /** The URL the proxy posts to. */
  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/auth";
  }

  /** Decisions given so far. */
  long answered() {
    return answered.get();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
