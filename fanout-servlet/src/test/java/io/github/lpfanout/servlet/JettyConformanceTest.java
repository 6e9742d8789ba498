package io.github.lpfanout.servlet;

import io.github.lpfanout.Fanout;
import io.github.lpfanout.conformance.TransportConformanceTest;

/**
 * Runs the transport conformance suite against the servlet in embedded Jetty, mounted at {@code
 * /*} in the root context.
 */
class JettyConformanceTest extends TransportConformanceTest {

  @Override
  protected Mount mount(Fanout fanout) throws Exception {
    return EmbeddedContainer.Kind.JETTY.serve(fanout, "", "/*");
  }
}
