package io.github.lpfanout.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.PollerRegistry;
import io.github.lpfanout.servlet.EmbeddedContainer.Kind;
import io.github.lpfanout.servlet.EmbeddedContainer.Mount;
import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.RawHttp;
import io.github.lpfanout.testing.ScriptedUpstream;
import io.github.lpfanout.testing.SseRecorder;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import javax.servlet.GenericServlet;
import javax.servlet.ServletConfig;
import javax.servlet.ServletException;
import javax.servlet.ServletRequest;
import javax.servlet.ServletResponse;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpServletResponseWrapper;
import mockwebserver3.MockResponse;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** How the servlet lives and dies with its web application, in each container. */
class FanoutServletTest {
  private ScriptedUpstream upstream;
  private OkHttpClient client;

  @BeforeEach
  void startUpstreamAndClient() throws Exception {
    upstream = new ScriptedUpstream();
    client = new OkHttpClient.Builder().readTimeout(Duration.ofSeconds(30)).build();
  }

  @AfterEach
  void stopUpstreamAndClient() {
    client.dispatcher().cancelAll();
    client.dispatcher().executorService().shutdownNow();
    client.connectionPool().evictAll();
    upstream.close();
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void servletConfiguredByInitParametersStopsEveryThreadOfItsOwnWithTheApplication(Kind kind)
      throws Exception {
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    FanoutServlet servlet = new FanoutServlet();
    EmbeddedContainer container = kind.start(Mount.of("/app", "/fanout/*", servlet)
        .withInitParameters(Map.of(
            "no-auth", "true",
            "min-poll-gap", "5ms",
            "heartbeat-interval", "200ms",
            "shutdown-grace", "PT1S")));
    Fanout fanout = servlet.fanout();
    assertNotNull(fanout, "made when the servlet was initialized");

    String url = upstream.url("/a");
    try (SseRecorder stream = SseRecorder.connect(client, container.base() + "/sse/" + url)) {
      upstream.answer("/a", "hello");
      assertEquals(new SseRecorder.Event(url, "hello", null), stream.next());
      assertFalse(fanoutThreadsStartedSince(before).isEmpty(), "the fanout runs threads");

      container.close();
      assertTrue(fanout.registry().isClosed(), "closed when the application stopped");
      assertNull(servlet.fanout());
      Await.until("the stream to end", stream::isEnded);
    }
    Await.until("every fanout thread to end", Duration.ofSeconds(5),
        () -> fanoutThreadsStartedSince(before).isEmpty());
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void fanoutFromASupplierIsMadeOnInitAndClosedOnDestroy(Kind kind) throws Exception {
    AtomicInteger made = new AtomicInteger();
    FanoutServlet servlet = new FanoutServlet(() -> {
      made.incrementAndGet();
      return Fanout.newBuilder().authorizer(Authorizer.allowAll()).build();
    });
    assertNull(servlet.fanout());

    EmbeddedContainer container = kind.start(Mount.of("", "/*", servlet));
    Fanout fanout = servlet.fanout();
    assertEquals(1, made.get());
    assertFalse(fanout.registry().isClosed());

    container.close();
    assertTrue(fanout.registry().isClosed());
    assertEquals(1, made.get());
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void fanoutPassedInStaysOpenForItsOwnerAfterDestroy(Kind kind) throws Exception {
    try (Fanout fanout = Fanout.newBuilder().authorizer(Authorizer.allowAll()).build()) {
      EmbeddedContainer container = kind.start(Mount.of("", "/*", new FanoutServlet(fanout)));

      container.close();
      assertFalse(fanout.registry().isClosed());
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void stoppingTheApplicationCutsOffAStalledClientWithinTheShutdownGrace(Kind kind)
      throws Exception {
    Fanout fanout = Fanout.newBuilder()
        .authorizer(Authorizer.allowAll())
        .registry(PollerRegistry.newBuilder().minPollGap(Duration.ZERO).build())
        .maxPendingBytes(64L * 1024 * 1024)
        .shutdownGrace(Duration.ofMillis(500))
        .build();
    FanoutServlet servlet = new FanoutServlet(() -> fanout);
    EmbeddedContainer container = kind.start(Mount.of("", "/*", servlet));
    String url = upstream.url("/big");
    Socket stalled = RawHttp.openAndStall(container.origin(), "/bin/" + url, 4096);
    try (stalled) {
      Await.until("the stalled client subscribed", () -> fanout.clientCount() == 1);
      byte[] body = new byte[256 * 1024];
      for (int i = 0; i < 40; i++) {
        upstream.answer("/big", new MockResponse.Builder().body(new Buffer().write(body)).build());
      }
      Await.until("frames queued behind the stalled socket",
          () -> upstream.unansweredScripts("/big") == 0 && upstream.inFlight("/big") == 1);

      long start = System.nanoTime();
      container.close();
      Duration stopping = Duration.ofNanos(System.nanoTime() - start);

      assertEquals(0, fanout.clientCount());
      assertTrue(stopping.compareTo(Duration.ofSeconds(5)) < 0, "stopped in " + stopping);
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void stalledClientDroppedOverItsBoundFindsItsResponseEndedWhenItReadsAgain(Kind kind)
      throws Exception {
    try (Fanout fanout = Fanout.newBuilder()
            .authorizer(Authorizer.allowAll())
            .registry(PollerRegistry.newBuilder().minPollGap(Duration.ZERO).build())
            .maxPendingBytes(512 * 1024)
            .build();
        EmbeddedContainer container = kind.start(Mount.of("", "/*", new FanoutServlet(fanout)));
        Socket stalled = RawHttp.openAndStall(
            container.origin(), "/bin/" + upstream.url("/big"), 4096)) {
      Await.until("the stalled client subscribed", () -> fanout.clientCount() == 1);

      byte[] body = new byte[128 * 1024];
      Arrays.fill(body, (byte) 'x');
      for (int i = 0; i < 200 && fanout.clientCount() == 1; i++) {
        upstream.answer("/big", new MockResponse.Builder().body(new Buffer().write(body)).build());
        Await.until("the answer taken, or the client dropped",
            () -> upstream.unansweredScripts("/big") == 0 || fanout.clientCount() == 0);
      }
      Await.until("the stalled client dropped", () -> fanout.clientCount() == 0);

      stalled.setSoTimeout(10_000);
      readToTheEndOfTheResponse(stalled);
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void servletRegisteredWithoutAsyncSupportSaysSoWith500(Kind kind) throws Exception {
    try (Fanout fanout = Fanout.newBuilder().authorizer(Authorizer.allowAll()).build();
        EmbeddedContainer container = kind.start(
            Mount.of("", "/*", new FanoutServlet(fanout)).withoutAsyncSupport())) {
      Request request = new Request.Builder()
          .url(container.base() + "/sse/" + upstream.url("/a"))
          .build();
      try (Response response = client.newCall(request).execute()) {
        assertEquals(500, response.code());
        assertEquals("the fanout servlet needs async support\n", response.body().string());
      }
      assertEquals(0, fanout.registry().pollerCount());
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void methodsOtherThanGetAreRefusedWith405(Kind kind) throws Exception {
    try (Fanout fanout = Fanout.newBuilder().authorizer(Authorizer.allowAll()).build();
        EmbeddedContainer container =
            kind.start(Mount.of("/app", "/fanout/*", new FanoutServlet(fanout)))) {
      for (String method : List.of("POST", "PUT", "DELETE", "HEAD")) {
        Request request = new Request.Builder()
            .url(container.base() + "/sse/" + upstream.url("/a"))
            .method(method, method.equals("HEAD") || method.equals("DELETE")
                ? null : RequestBody.create(new byte[0]))
            .build();
        try (Response response = client.newCall(request).execute()) {
          assertEquals(405, response.code(), method);
          assertEquals("GET", response.header("Allow"), method);
        }
      }
      assertEquals(0, fanout.registry().pollerCount());
    }
  }

  @ParameterizedTest
  @EnumSource(Kind.class)
  void streamsAskForTheResponseBufferTheInitParameterSetsAndLargerFramesStillArriveWhole(
      Kind kind) throws Exception {
    try (Fanout fanout = Fanout.newBuilder()
            .authorizer(Authorizer.allowAll())
            .registry(PollerRegistry.newBuilder().minPollGap(Duration.ZERO).build())
            .build()) {
      BufferRecordingServlet servlet = new BufferRecordingServlet(new FanoutServlet(fanout));
      String url = upstream.url("/a");
      String large = "x".repeat(40_000);

      try (EmbeddedContainer container = kind.start(Mount.of("", "/*", servlet)
              .withInitParameters(Map.of("response-buffer-bytes", "16384")));
          SseRecorder stream = SseRecorder.connect(client, container.base() + "/sse/" + url)) {
        upstream.answer("/a", large);
        assertEquals(new SseRecorder.Event(url, large, null), stream.next());
        assertEquals(List.of(16384), servlet.bufferSizes);
      }

      servlet.bufferSizes.clear();
      String other = upstream.url("/b");
      try (EmbeddedContainer container = kind.start(Mount.of("", "/*", servlet));
          SseRecorder stream = SseRecorder.connect(client, container.base() + "/sse/" + other)) {
        upstream.answer("/b", "small");
        assertEquals(new SseRecorder.Event(other, "small", null), stream.next());
        assertEquals(List.of(8192), servlet.bufferSizes, "the default");
      }
    }
  }

  /**
   * Serves every request through a {@link FanoutServlet}, with a response that records the buffer
   * sizes asked of it: the container's own response does not say what it was asked.
   */
  private static final class BufferRecordingServlet extends GenericServlet {
    private static final long serialVersionUID = 1L;

    private final transient FanoutServlet delegate;
    final transient List<Integer> bufferSizes = new CopyOnWriteArrayList<>();

    BufferRecordingServlet(FanoutServlet delegate) {
      this.delegate = delegate;
    }

    @Override
    public void init(ServletConfig config) throws ServletException {
      super.init(config);
      delegate.init(config);
    }

    @Override
    public void service(ServletRequest request, ServletResponse response)
        throws ServletException, IOException {
      delegate.service(request, new HttpServletResponseWrapper((HttpServletResponse) response) {
        @Override
        public void setBufferSize(int size) {
          bufferSizes.add(size);
          super.setBufferSize(size);
        }
      });
    }

    @Override
    public void destroy() {
      delegate.destroy();
    }
  }

  /**
   * Reads until the last chunk of the response or the end of the connection, failing with a
   * timeout if neither comes.
   */
  private static void readToTheEndOfTheResponse(Socket socket) throws Exception {
    byte[] buffer = new byte[64 * 1024];
    byte[] last = new byte[0];
    for (int n = socket.getInputStream().read(buffer); n >= 0;
        n = socket.getInputStream().read(buffer)) {
      byte[] tail = Arrays.copyOf(last, last.length + n);
      System.arraycopy(buffer, 0, tail, last.length, n);
      last = Arrays.copyOfRange(tail, Math.max(0, tail.length - 7), tail.length);
      if (new String(last, StandardCharsets.ISO_8859_1).endsWith("\r\n0\r\n\r\n")) {
        return;
      }
    }
  }

  private static Set<String> fanoutThreadsStartedSince(Set<Thread> before) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(thread -> !before.contains(thread) && thread.isAlive())
        .map(Thread::getName)
        .filter(name -> name.startsWith("fanout-"))
        .collect(Collectors.toSet());
  }
}
