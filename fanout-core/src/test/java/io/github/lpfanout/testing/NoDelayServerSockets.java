package io.github.lpfanout.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import javax.net.ServerSocketFactory;

/**
 * Server sockets whose accepted connections send each write at once ({@code TCP_NODELAY}).
 *
 * <p>MockWebServer writes a response head and its body separately; with Nagle's algorithm on, the
 * body then waits for the client's delayed acknowledgement of the head, some 40 ms on Linux, for
 * every response. A test upstream that answers many polls in a row uses this factory so that the
 * pace it shows is the poller's, not the kernel's.
 */
public final class NoDelayServerSockets extends ServerSocketFactory {

  /** Sets {@code TCP_NODELAY} on each socket it accepts. */
  private static final class NoDelayServerSocket extends ServerSocket {
    NoDelayServerSocket() throws IOException {
      super();
    }

    @Override
    public Socket accept() throws IOException {
      Socket socket = super.accept();
      socket.setTcpNoDelay(true);
      return socket;
    }
  }

  @Override
  public ServerSocket createServerSocket() throws IOException {
    return new NoDelayServerSocket();
  }

  @Override
  public ServerSocket createServerSocket(int port) throws IOException {
    return createServerSocket(port, 50, null);
  }

  @Override
  public ServerSocket createServerSocket(int port, int backlog) throws IOException {
    return createServerSocket(port, backlog, null);
  }

  @Override
  public ServerSocket createServerSocket(int port, int backlog, InetAddress address)
      throws IOException {
    ServerSocket socket = new NoDelayServerSocket();
    socket.bind(new java.net.InetSocketAddress(address, port), backlog);
    return socket;
  }
}
