package io.github.lpfanout.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.AuthDecision;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.UpstreamUrl;
import io.github.lpfanout.servlet.EmbeddedContainer.Kind;
import io.github.lpfanout.servlet.EmbeddedContainer.Mount;
import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.ScriptedUpstream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import mockwebserver3.RecordedRequest;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The request targets that containers mangle or refuse, sent byte for byte to the servlet in each
 * container, mounted below a context path and at the root. Each test checks which URL the
 * upstream was polled for and which spelling the client's events carry.
 */
class RequestTargetTest {
  private final List<AutoCloseable> cleanup = new ArrayList<>();
  private final AtomicInteger authorizations = new AtomicInteger();
  private ScriptedUpstream upstream;
  private Fanout fanout;
  private String host;

  @BeforeEach
  void startUpstream() throws Exception {
    upstream = new ScriptedUpstream();
    host = "127.0.0.1:" + upstream.port();
    fanout = Fanout.newBuilder()
        .authorizer(request -> {
          authorizations.incrementAndGet();
          return CompletableFuture.completedFuture(AuthDecision.allow());
        })
        .build();
  }

  @AfterEach
  void stopEverything() throws Exception {
    fanout.close();
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      cleanup.get(i).close();
    }
    upstream.close();
  }

  static Stream<Arguments> mounts() {
    List<Arguments> mounts = new ArrayList<>();
    for (Kind kind : Kind.values()) {
      mounts.add(Arguments.of(kind, "/app", "/fanout/*"));
      mounts.add(Arguments.of(kind, "", "/*"));
    }
    return mounts.stream();
  }

  @ParameterizedTest(name = "{0} at {1}{2}")
  @MethodSource("mounts")
  void schemeWhoseSlashesWereCollapsedIsRepaired(Kind kind, String context, String mapping)
      throws Exception {
    EmbeddedContainer container = start(kind, Mount.of(context, mapping, servlet()));

    String spelling = "http://" + host + "/a";
    assertStreams(container, "/sse/http:/" + host + "/a", spelling, "/a");
  }

  @ParameterizedTest(name = "{0} at {1}{2}")
  @MethodSource("mounts")
  void queryStringBelongsToTheUpstreamUrl(Kind kind, String context, String mapping)
      throws Exception {
    EmbeddedContainer container = start(kind, Mount.of(context, mapping, servlet()));

    String spelling = "http://" + host + "/a?since=3&tags=x,y";
    assertStreams(container, "/sse/" + spelling, spelling, "/a");
  }

  @ParameterizedTest(name = "{0} at {1}{2}")
  @MethodSource("mounts")
  void encodedCommaStaysInItsUrlUnlessAUrlFollowsIt(Kind kind, String context, String mapping)
      throws Exception {
    EmbeddedContainer container = start(kind, Mount.of(context, mapping, servlet()));
    String first = "http://" + host + "/a?ids=1%2C2";
    String second = "http://" + host + "/b";

    try (RawStream client = open(container, "/sse/" + first + "%2C" + second)) {
      assertEquals(200, client.status(), client.head());
      assertPolled(first, second);
      upstream.answer("/a", "from a");
      upstream.answer("/b", "from b");
      client.awaitBodyContaining("event: " + first + "\ndata: from a\n\n", Duration.ofSeconds(10));
      client.awaitBodyContaining("event: " + second + "\ndata: from b\n\n", Duration.ofSeconds(10));
    }
  }

  @ParameterizedTest(name = "{0} at {1}{2}")
  @MethodSource("mounts")
  void urlEncodedWholeWithoutEncodedSlashesPassesEveryContainer(
      Kind kind, String context, String mapping) throws Exception {
    EmbeddedContainer container = start(kind, Mount.of(context, mapping, servlet()));

    String encoded = "http%3A//" + host.replace(":", "%3A") + "/a%3Fsince%3D3";
    assertStreams(container, "/sse/" + encoded, "http://" + host + "/a?since=3", "/a");
  }

  @ParameterizedTest(name = "{0} at {1}{2}")
  @MethodSource("mounts")
  void queryFormCarriesUrlsThatNoContainerRefuses(Kind kind, String context, String mapping)
      throws Exception {
    EmbeddedContainer container = start(kind, Mount.of(context, mapping, servlet()));
    String spelling = "http://" + host + "/a?q=[1]|{2}&ids=1,2";

    assertStreams(container, "/sse?url=" + URLEncoder.encode(spelling, StandardCharsets.UTF_8),
        spelling, "/a");
  }

  @ParameterizedTest(name = "{0} at {1}{2}")
  @MethodSource("mounts")
  void urlEncodedWholeWithEncodedSlashesNeedsTheContainerToPassThem(
      Kind kind, String context, String mapping) throws Exception {
    String spelling = "http://" + host + "/a?since=3";
    String target = "/sse/" + URLEncoder.encode(spelling, StandardCharsets.UTF_8);

    if (kind == Kind.TOMCAT) {
      EmbeddedContainer strict = start(kind, Mount.of(context, mapping, servlet()));
      assertRefusedByTheContainer(strict, target);
    }

    EmbeddedContainer lenient =
        start(kind, Mount.of(context, mapping, servlet()).withLenientTargets());
    assertStreams(lenient, target, spelling, "/a");
  }

  @ParameterizedTest(name = "{0} at {1}{2}")
  @MethodSource("mounts")
  void charactersThatMustBeEncodedNeedTheContainerToPassThemRaw(
      Kind kind, String context, String mapping) throws Exception {
    String spelling = "http://" + host + "/a|b?q=[1]{2}";
    String target = "/sse/" + spelling;

    if (kind == Kind.TOMCAT) {
      EmbeddedContainer strict = start(kind, Mount.of(context, mapping, servlet()));
      assertRefusedByTheContainer(strict, target);
    }

    EmbeddedContainer lenient =
        start(kind, Mount.of(context, mapping, servlet()).withLenientTargets());
    assertStreams(lenient, target, spelling, HttpUrl.get(spelling).encodedPath());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Kind.class)
  void pathParameterOnTheMountPathIsPassedOver(Kind kind) throws Exception {
    EmbeddedContainer container = start(kind, Mount.of("/app", "/fanout/*", servlet()));

    String spelling = "http://" + host + "/a;v=1";
    try (RawStream client =
        RawStream.open(container.origin(), "/app/fanout;jsessionid=x/sse/" + spelling)) {
      assertEquals(200, client.status(), client.head());
      assertPolled(spelling);
    }
  }

  // --- Helpers -------------------------------------------------------------------------------

  private FanoutServlet servlet() {
    return new FanoutServlet(fanout);
  }

  private EmbeddedContainer start(Kind kind, Mount mount) throws Exception {
    EmbeddedContainer container = kind.start(mount);
    cleanup.add(container);
    return container;
  }

  private RawStream open(EmbeddedContainer container, String target) throws Exception {
    RawStream stream = RawStream.open(container.origin(), container.mount.prefix() + target);
    cleanup.add(stream);
    return stream;
  }

  /**
   * Opens {@code target} below the mount, and checks that {@code spelling} alone is subscribed,
   * that the upstream is polled at {@code path}, and that an event carries the spelling.
   */
  private void assertStreams(EmbeddedContainer container, String target, String spelling,
      String path) throws Exception {
    try (RawStream client = open(container, target)) {
      assertEquals(200, client.status(), client.head());
      assertPolled(spelling);

      upstream.answer(path, "news");
      client.awaitBodyContaining("event: " + spelling + "\ndata: news\n\n", Duration.ofSeconds(10));
    }
  }

  /** Waits until exactly {@code spellings} are polled, and checks the URLs requested upstream. */
  private void assertPolled(String... spellings) throws InterruptedException {
    for (String spelling : spellings) {
      UpstreamUrl url = UpstreamUrl.of(spelling);
      Await.until("a subscriber of " + spelling,
          () -> fanout.registry().subscriberCount(url) == 1);
    }
    assertEquals(spellings.length, fanout.registry().pollerCount());

    List<HttpUrl> requested = new ArrayList<>();
    for (int i = 0; i < spellings.length; i++) {
      RecordedRequest request = upstream.takeRequest(5000);
      assertNotNull(request, "a poll for each URL");
      requested.add(request.getUrl());
    }
    for (String spelling : spellings) {
      assertTrue(requested.contains(HttpUrl.get(spelling)),
          spelling + " was polled; polled were " + requested);
    }
  }

  /** The container answers 400 itself: the servlet never sees the request. */
  private void assertRefusedByTheContainer(EmbeddedContainer container, String target)
      throws Exception {
    try (RawStream client = open(container, target)) {
      assertEquals(400, client.status(), client.head());
    }
    assertEquals(0, authorizations.get());
    assertEquals(0, fanout.clientCount());
  }
}
