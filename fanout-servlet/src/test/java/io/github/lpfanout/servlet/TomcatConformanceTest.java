package io.github.lpfanout.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.conformance.TransportConformanceTest;
import io.github.lpfanout.testing.SseRecorder;
import okhttp3.MediaType;
import okhttp3.Response;
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

  /**
   * The suite's version compares the {@code Content-Type} as a string, but Tomcat re-renders every
   * content type it is given, as {@code text/event-stream;charset=utf-8}: the same media type
   * without the optional space. This checks the media type and the other headers instead.
   */
  @Test
  @Override
  public void sseStreamDeliversEachResponseAsAnEventNamedByTheUrl() throws Exception {
    String base = serve(Authorizer.allowAll());
    String url = upstream.url("/a");
    try (SseRecorder client = SseRecorder.connect(this.client, base + "/sse/" + url)) {
      Response response = client.awaitOpen();
      assertEquals(200, response.code());
      MediaType type = MediaType.get(response.header("Content-Type"));
      assertEquals("text/event-stream", type.type() + "/" + type.subtype());
      assertEquals("utf-8", type.parameter("charset"));
      assertEquals("no-cache", response.header("Cache-Control"));
      assertEquals("no", response.header("X-Accel-Buffering"));

      upstream.answer("/a", "one");
      upstream.answer("/a", "two");
      assertEquals(new SseRecorder.Event(url, "one", null), client.next());
      assertEquals(new SseRecorder.Event(url, "two", null), client.next());
      assertEquals(0, client.pending());
    }
  }
}
