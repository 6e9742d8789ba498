package io.github.lpfanout.jdkhttp;

import com.sun.net.httpserver.HttpServer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.conformance.TransportConformanceTest;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Runs the transport conformance suite against the JDK HttpServer, mounted at {@code /fanout}. The
 * server has no executor, so every request runs on its single dispatcher thread: the suite's many
 * concurrent streams pass only if the handler never holds that thread.
 */
class JdkHttpConformanceTest extends TransportConformanceTest {

  @Override
  protected Mount mount(Fanout fanout) throws Exception {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
    FanoutHttpHandler handler = new FanoutHttpHandler(fanout);
    server.createContext("/fanout", handler);
    server.start();

    String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/fanout";
    return new Mount() {
      @Override
      public String baseUrl() {
        return base;
      }

      @Override
      public void close() {
        fanout.close();
        handler.close();
        server.stop(0);
      }
    };
  }
}
