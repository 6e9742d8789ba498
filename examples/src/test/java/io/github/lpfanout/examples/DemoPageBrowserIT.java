package io.github.lpfanout.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.PollerRegistry;
import io.github.lpfanout.UpstreamUrl;
import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.ScriptedUpstream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The demo page in a real headless Chromium: the browser's own {@code EventSource} subscribes
 * through the proxy, and the test reads what the page received through the DevTools protocol.
 * CI installs Debian's chromium; elsewhere the test is skipped when there is none.
 */
class DemoPageBrowserIT {
  private ScriptedUpstream upstream;
  private FanoutProxy proxy;
  private HeadlessChromium browser;

  @BeforeEach
  void start() throws Exception {
    boolean required = "true".equals(System.getenv("CI"));
    assumeTrue(required || HeadlessChromium.binary() != null, "no chromium to test with");
    upstream = new ScriptedUpstream();
  }

  @AfterEach
  void stop() throws Exception {
    if (browser != null) {
      browser.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  /** One event as the page saw it. */
  record PageEvent(String type, String data, String id) {}

  private List<PageEvent> pageEvents() throws Exception {
    String joined = browser.evaluate("window.fanoutEvents.map(e => [e.type, e.data, e.id]"
        + ".join('\\u0001')).join('\\u0002')", Duration.ofSeconds(10));
    List<PageEvent> events = new ArrayList<>();
    if (!joined.isEmpty()) {
      for (String event : joined.split("\u0002", -1)) {
        String[] fields = event.split("\u0001", -1);
        events.add(new PageEvent(fields[0], fields[1], fields[2]));
      }
    }
    return events;
  }

  private String pageUrl(String... urls) {
    StringBuilder query = new StringBuilder();
    for (String url : urls) {
      query.append("url=").append(URLEncoder.encode(url, StandardCharsets.UTF_8)).append('&');
    }
    return proxy.baseUrl() + DemoPage.PATH + "?" + query + "subscribe";
  }

  @Test
  void eventsNamedByUrlArriveInTheBrowserWithTheirData() throws Exception {
    proxy = FanoutProxy.start(ProxyOptions.parse("--port=0", "--no-auth"));
    String first = upstream.url("/first");
    String second = upstream.url("/second?since=0");
    browser = HeadlessChromium.open(pageUrl(first, second));
    Await.until("the browser subscribed", Duration.ofSeconds(20),
        () -> upstream.inFlight("/first") == 1 && upstream.inFlight("/second") == 1);

    upstream.answer("/first", "one line");
    Await.until("the first event", Duration.ofSeconds(10), () -> count() == 1);
    upstream.answer("/second", "two\r\nlines ✓");
    Await.until("the second event", Duration.ofSeconds(10), () -> count() == 2);

    List<PageEvent> events = pageEvents();
    assertEquals(first, events.get(0).type());
    assertEquals("one line", events.get(0).data());
    assertEquals(second, events.get(1).type());
    assertEquals("two\nlines ✓", events.get(1).data());
  }

  /**
   * The browser's own reconnect: the stream carries ids and a short retry, the connection is cut
   * and refused for a while as messages go on, and the EventSource comes back with Last-Event-ID
   * and gets what it missed, then the live stream, each message once and in order.
   */
  @Test
  void theBrowsersReconnectResumesWithNoMessageLostOrRepeated() throws Exception {
    String url = "http://push.example/feed";
    PollerRegistry registry = PollerRegistry.newBuilder().pushFedPrefix("http://push.example/")
        .build();
    Fanout fanout = Fanout.newBuilder()
        .registry(registry)
        .authorizer(Authorizer.allowAll())
        .retry(Duration.ofMillis(200))
        .heartbeatInterval(Duration.ofMillis(500))
        .build();
    try (fanout;
        JdkProxyServer server = JdkProxyServer.start("127.0.0.1", 0, fanout, false);
        TcpRelay relay = new TcpRelay(java.net.URI.create(server.baseUrl()).getPort())) {
      String base = "http://127.0.0.1:" + relay.port();
      browser = HeadlessChromium.open(base + DemoPage.PATH + "?url="
          + URLEncoder.encode(url, StandardCharsets.UTF_8) + "&subscribe");
      UpstreamUrl upstream = UpstreamUrl.of(url);
      Await.until("the browser subscribed", Duration.ofSeconds(20),
          () -> registry.subscriberCount(upstream) == 1);

      publish(registry, upstream, 1, 3);
      Await.until("three events", Duration.ofSeconds(10), () -> count() == 3);
      relay.dropAndRefuse();
      publish(registry, upstream, 4, 6);
      Await.until("the old stream is let go", () -> fanout.clientCount() == 0);
      relay.resume();
      Await.until("the browser is back", Duration.ofSeconds(20),
          () -> registry.subscriberCount(upstream) == 1);
      publish(registry, upstream, 7, 8);
      Await.until("eight events", Duration.ofSeconds(10), () -> count() >= 8);

      List<PageEvent> events = pageEvents();
      List<String> data = events.stream().map(PageEvent::data).toList();
      assertEquals(List.of("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"), data);
      for (PageEvent event : events) {
        assertEquals(url, event.type());
      }
      assertEquals(8, events.stream().map(PageEvent::id).distinct().count(), "ids are unique");
    }
  }

  private static void publish(PollerRegistry registry, UpstreamUrl url, int first, int last) {
    for (int i = first; i <= last; i++) {
      registry.publish(url, ("m" + i).getBytes(StandardCharsets.UTF_8), "text/plain");
    }
  }

  private int count() {
    try {
      return Integer.parseInt(
          browser.evaluate("String(window.fanoutEvents.length)", Duration.ofSeconds(5)));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
