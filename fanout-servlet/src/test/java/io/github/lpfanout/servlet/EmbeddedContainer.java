package io.github.lpfanout.servlet;

import io.github.lpfanout.Fanout;
import io.github.lpfanout.conformance.TransportConformanceTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.servlet.Servlet;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

/**
 * A real embedded servlet container on 127.0.0.1 and a free port, serving one servlet at one
 * mapping. The tests run every servlet behaviour in each kind.
 */
abstract class EmbeddedContainer implements AutoCloseable {

  /** The kinds of container the servlet is proven in. */
  enum Kind {
    TOMCAT,
    JETTY;

    EmbeddedContainer start(Mount mount) throws Exception {
      return this == TOMCAT ? new TomcatContainer(mount) : new JettyContainer(mount);
    }

    /**
     * Serves {@code fanout} with a {@link FanoutServlet} in {@code contextPath} at {@code mapping},
     * as the conformance suite mounts a transport: closing closes the fanout, then the container.
     */
    TransportConformanceTest.Mount serve(Fanout fanout, String contextPath, String mapping)
        throws Exception {
      EmbeddedContainer container =
          start(Mount.of(contextPath, mapping, new FanoutServlet(fanout)));
      return new TransportConformanceTest.Mount() {
        @Override
        public String baseUrl() {
          return container.base();
        }

        @Override
        public void close() throws Exception {
          fanout.close();
          container.close();
        }
      };
    }
  }

  /**
   * Where and how a servlet is mounted.
   *
   * @param contextPath the web application's context path: {@code ""} for the root, or {@code
   *     /name}
   * @param mapping the servlet mapping: {@code /*} or {@code /prefix/*}
   * @param servlet the servlet
   * @param initParameters the servlet's init parameters
   * @param lenientTargets whether to turn on the container settings that let through encoded
   *     slashes and backslashes and the characters RFC 3986 does not allow unencoded
   * @param asyncSupported whether the servlet is registered with async support, as it must be
   */
  record Mount(
      String contextPath,
      String mapping,
      Servlet servlet,
      Map<String, String> initParameters,
      boolean lenientTargets,
      boolean asyncSupported) {

    static Mount of(String contextPath, String mapping, Servlet servlet) {
      return new Mount(contextPath, mapping, servlet, Map.of(), false, true);
    }

    Mount withInitParameters(Map<String, String> parameters) {
      return new Mount(contextPath, mapping, servlet, parameters, lenientTargets, asyncSupported);
    }

    Mount withLenientTargets() {
      return new Mount(contextPath, mapping, servlet, initParameters, true, asyncSupported);
    }

    Mount withoutAsyncSupport() {
      return new Mount(contextPath, mapping, servlet, initParameters, lenientTargets, false);
    }

    /** The path that requests for the servlet start with, without a final slash. */
    String prefix() {
      return contextPath + mapping.substring(0, mapping.length() - "/*".length());
    }
  }

  protected final Mount mount;

  EmbeddedContainer(Mount mount) {
    this.mount = mount;
  }

  /** The listening port. */
  abstract int port();

  /** {@code http://127.0.0.1:<port>}. */
  String origin() {
    return "http://127.0.0.1:" + port();
  }

  /** The URL that {@code /sse/...} is relative to, without a final slash. */
  String base() {
    return origin() + mount.prefix();
  }

  /** Stops the container, which destroys the servlet. */
  @Override
  public abstract void close() throws Exception;

  private static final class TomcatContainer extends EmbeddedContainer {
    /** Every character Tomcat can be told to accept unencoded in a request target. */
    private static final String RELAXED_CHARS = "\"<>[\\]^`{|}";

    private final Tomcat tomcat = new Tomcat();
    private final Connector connector = new Connector("HTTP/1.1");
    private final Path baseDir;

    TomcatContainer(Mount mount) throws LifecycleException, IOException {
      super(mount);
      baseDir = Files.createTempDirectory("tomcat");
      tomcat.setBaseDir(baseDir.toString());
      connector.setPort(0);
      connector.setProperty("address", "127.0.0.1");
      if (mount.lenientTargets()) {
        connector.setEncodedSolidusHandling("passthrough");
        connector.setEncodedReverseSolidusHandling("passthrough");
        connector.setProperty("relaxedPathChars", RELAXED_CHARS);
        connector.setProperty("relaxedQueryChars", RELAXED_CHARS);
      }
      tomcat.getService().addConnector(connector);
      tomcat.setConnector(connector);

      Context context = tomcat.addContext(mount.contextPath(), null);
      Wrapper wrapper = Tomcat.addServlet(context, "fanout", mount.servlet());
      wrapper.setAsyncSupported(mount.asyncSupported());
      wrapper.setLoadOnStartup(1);
      mount.initParameters().forEach(wrapper::addInitParameter);
      context.addServletMappingDecoded(mount.mapping(), "fanout");
      tomcat.start();
    }

    @Override
    int port() {
      return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
      tomcat.stop();
      tomcat.destroy();
      deleteTree(baseDir);
    }
  }

  private static final class JettyContainer extends EmbeddedContainer {
    private final Server server = new Server();
    private final ServerConnector connector = new ServerConnector(server);

    JettyContainer(Mount mount) throws Exception {
      super(mount);
      connector.setHost("127.0.0.1");
      connector.setPort(0);
      server.addConnector(connector);

      ServletContextHandler context = new ServletContextHandler();
      context.setContextPath(mount.contextPath().isEmpty() ? "/" : mount.contextPath());
      ServletHolder holder = new ServletHolder("fanout", mount.servlet());
      holder.setAsyncSupported(mount.asyncSupported());
      holder.setInitOrder(1);
      holder.setInitParameters(mount.initParameters());
      context.addServlet(holder, mount.mapping());
      server.setHandler(context);
      server.start();
    }

    @Override
    int port() {
      return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
      server.stop();
    }
  }

  private static void deleteTree(Path root) {
    try (var paths = Files.walk(root)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
