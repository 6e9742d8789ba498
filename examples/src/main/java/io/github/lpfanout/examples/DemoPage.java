package io.github.lpfanout.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * The demo page at {@code /demo/}: plain HTML and JavaScript that subscribes with {@code
 * EventSource} to the URLs the user types and lists the events as they arrive. {@code
 * ?url=<url>&subscribe} fills in the URLs and subscribes at once.
 */
final class DemoPage {
  static final String PATH = "/demo/";
  private static final byte[] HTML = load();

  private DemoPage() {}

  private static byte[] load() {
    try (InputStream in = DemoPage.class.getResourceAsStream("demo.html")) {
      if (in == null) {
        throw new IllegalStateException("demo.html is missing from the classpath");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Serves the page from the JDK HttpServer. */
  static HttpHandler handler() {
    return DemoPage::serve;
  }

  private static void serve(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestURI().getRawPath().equals(PATH)) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
      exchange.getResponseHeaders().set("Cache-Control", "no-cache");
      exchange.sendResponseHeaders(200, HTML.length);
      exchange.getResponseBody().write(HTML);
    }
  }

  /** Serves the page from a servlet container; map it at {@code /demo/}. */
  static final class Servlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      response.setContentType("text/html; charset=utf-8");
      response.setHeader("Cache-Control", "no-cache");
      response.setContentLength(HTML.length);
      response.getOutputStream().write(HTML);
    }
  }
}
