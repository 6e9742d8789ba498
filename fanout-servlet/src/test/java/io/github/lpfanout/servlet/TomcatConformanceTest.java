package io.github.lpfanout.servlet;

import io.github.lpfanout.Fanout;
import io.github.lpfanout.conformance.TransportConformanceTest;

/**
 * Runs the transport conformance suite against the servlet in embedded Tomcat, mounted at {@code
 * /fanout/*} in the context {@code /app}.
 */
class TomcatConformanceTest extends TransportConformanceTest {

  @Override
  protected Mount mount(Fanout fanout) throws Exception {
    EmbeddedContainer container = EmbeddedContainer.Kind.TOMCAT
        .start(EmbeddedContainer.Mount.of("/app", "/fanout/*", new FanoutServlet(fanout)));
    return new Mount() {
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
