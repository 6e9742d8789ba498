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
    return EmbeddedContainer.Kind.TOMCAT.serve(fanout, "/app", "/fanout/*");
  }
}
