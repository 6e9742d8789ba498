package io.github.lpfanout.servlet;

import io.github.lpfanout.Fanout;
import io.github.lpfanout.conformance.TransportConformanceTest;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

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

  @Test
  @Override
  @Disabled("BUG: in Tomcat, a stream opened while other clients disconnect as frames are being "
      + "written to them can be cut off at its first write (the client reads EOF after the 200, "
      + "the server gets a broken pipe). Plain reconnects, without Last-Event-ID, while a polled "
      + "URL keeps answering do it too; Jetty and the JDK server pass")
  public void reconnectingWhilePublishingNeitherLosesNorRepeatsAMessage() throws Exception {
    super.reconnectingWhilePublishingNeitherLosesNorRepeatsAMessage();
  }
}
