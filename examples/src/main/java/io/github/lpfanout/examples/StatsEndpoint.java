package io.github.lpfanout.examples;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.github.lpfanout.Fanout;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * The proxy's {@code /stats}: {@link Fanout#stats()} as JSON. It answers clients on loopback, and
 * others only if they send {@code Authorization: Bearer <token>} with the configured token; to
 * anyone else it answers 404, as if it were not there.
 */
final class StatsEndpoint {
  static final String PATH = "/stats";

  private final Fanout fanout;
  private final byte[] token;

  /** @param token the token remote clients must send, or null to answer loopback only */
  StatsEndpoint(Fanout fanout, String token) {
    this.fanout = fanout;
    this.token = token == null ? null : ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
  }

  /** Whether a client at {@code address} that sent {@code authorization} may read the stats. */
  boolean admits(String address, String authorization) {
    if (isLoopback(address)) {
      return true;
    }
    return token != null && authorization != null
        && MessageDigest.isEqual(token, authorization.getBytes(StandardCharsets.UTF_8));
  }

  private static boolean isLoopback(String address) {
    try {
      return address != null && InetAddress.getByName(address).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** Serves the stats from the JDK HttpServer. */
  HttpHandler handler() {
    return exchange -> {
      try (exchange) {
        String address = exchange.getRemoteAddress().getAddress().getHostAddress();
        if (!exchange.getRequestURI().getRawPath().equals(PATH)
            || !admits(address, exchange.getRequestHeaders().getFirst("Authorization"))) {
          exchange.sendResponseHeaders(404, -1);
          return;
        }
        byte[] json = fanout.stats().toJson().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(200, json.length);
        exchange.getResponseBody().write(json);
      }
    };
  }

  /** Serves the stats from a servlet container; map it at {@code /stats}. */
  HttpServlet servlet() {
    return new StatsServlet(this);
  }

  private static final class StatsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient StatsEndpoint endpoint;

    StatsServlet(StatsEndpoint endpoint) {
      this.endpoint = endpoint;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      if (!endpoint.admits(request.getRemoteAddr(), request.getHeader("Authorization"))) {
        response.sendError(404);
        return;
      }
      byte[] json = endpoint.fanout.stats().toJson().getBytes(StandardCharsets.UTF_8);
      response.setContentType("application/json");
      response.setHeader("Cache-Control", "no-store");
      response.setContentLength(json.length);
      response.getOutputStream().write(json);
    }
  }
}
