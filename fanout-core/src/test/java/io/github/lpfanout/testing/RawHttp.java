package io.github.lpfanout.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * Sends a request line exactly as given, byte for byte, which no HTTP client library does for
 * targets it considers malformed, and reads the answer of a request that ends.
 */
public final class RawHttp {

  /** A complete answer. */
  public record Answer(int status, String head, String body) {}

  private RawHttp() {}

  /**
   * Sends {@code GET <target> HTTP/1.1} to the host and port of {@code base}, with {@code
   * Connection: close}, and reads the whole answer. Only for answers that end: refusals.
   */
  public static Answer get(String base, String target) throws IOException {
    URI uri = URI.create(base);
    try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      String request = "GET " + target + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
          + "\r\nConnection: close\r\n\r\n";
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();

      String answer = readAll(socket.getInputStream());
      int headEnd = answer.indexOf("\r\n\r\n");
      String head = headEnd < 0 ? answer : answer.substring(0, headEnd);
      String body = headEnd < 0 ? "" : answer.substring(headEnd + 4);
      String[] statusLine = head.split(" ", 3);
      int status = statusLine.length > 1 ? Integer.parseInt(statusLine[1]) : -1;
      return new Answer(status, head, body);
    }
  }

  /**
   * Opens a stream with {@code GET <target>} and returns the socket without reading from it, so
   * that a test can play a client that stalls or vanishes. The caller closes the socket.
   */
  public static Socket openAndStall(String base, String target, int receiveBufferBytes)
      throws IOException {
    URI uri = URI.create(base);
    Socket socket = new Socket();
    socket.setReceiveBufferSize(receiveBufferBytes);
    socket.connect(new java.net.InetSocketAddress(uri.getHost(), uri.getPort()));
    String request = "GET " + target + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
        + "\r\n\r\n";
    socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
    socket.getOutputStream().flush();
    return socket;
  }

  /** Reads the status line of a stream opened with {@link #openAndStall} and returns its code. */
  public static int readStatus(Socket socket) throws IOException {
    socket.setSoTimeout(10_000);
    InputStream in = socket.getInputStream();
    StringBuilder line = new StringBuilder();
    for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) {
      line.append((char) c);
    }
    String[] parts = line.toString().split(" ", 3);
    return parts.length > 1 ? Integer.parseInt(parts[1]) : -1;
  }

  private static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
      bytes.write(buffer, 0, n);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
