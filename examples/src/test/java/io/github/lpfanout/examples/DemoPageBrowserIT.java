package io.github.lpfanout.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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

  private int count() {
    try {
      return Integer.parseInt(
          browser.evaluate("String(window.fanoutEvents.length)", Duration.ofSeconds(5)));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
