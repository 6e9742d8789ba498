package io.github.lpfanout.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.Authorizer;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.UpstreamUrl;
import java.time.Duration;
import java.util.Collections;
import java.util.Enumeration;
import java.util.Map;
import javax.servlet.ServletConfig;
import javax.servlet.ServletContext;
import javax.servlet.ServletException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class InitParametersTest {

  @Test
  void everyParameterIsAccepted() throws Exception {
    Fanout fanout = InitParameters.fanout(config(Map.ofEntries(
        Map.entry("auth-url", "http://127.0.0.1:9/check"),
        Map.entry("auth-timeout", "3s"),
        Map.entry("auth-max-requests", "512"),
        Map.entry("auth-max-requests-per-address", "512"),
        Map.entry("forwarded-headers", "Cookie, X-Api-Key"),
        Map.entry("max-urls-per-client", "10"),
        Map.entry("max-target-length", "4096"),
        Map.entry("max-pending-bytes", "1_048_576"),
        Map.entry("heartbeat-interval", "PT20S"),
        Map.entry("shutdown-grace", "500ms"),
        Map.entry("read-timeout", "5m"),
        Map.entry("min-poll-gap", "0ms"),
        Map.entry("max-body-bytes", "1024"),
        Map.entry("allow", "http://a.example/feeds/, https://b.example/"),
        Map.entry("max-clients", "100"),
        Map.entry("max-polled-urls", "50"),
        Map.entry("push-fed", "http://push.example/"),
        Map.entry("retry", "2s"),
        Map.entry("latest-on-join", "false"),
        Map.entry("cors-allow-origins", "https://app.example, https://admin.example"),
        Map.entry("cors-allow-credentials", "true"),
        Map.entry("postback-secret", "a secret of sixteen or more"),
        Map.entry("postback-path", "push"),
        Map.entry("response-buffer-bytes", "32_768"))));
    try (fanout) {
      assertFalse(fanout.registry().isClosed());
      assertTrue(fanout.registry().isPushFed(UpstreamUrl.of("http://push.example/feed")));
      assertTrue(fanout.isPostback("/push?url=http%3A%2F%2Fpush.example%2Ffeed"));
    }
    assertTrue(fanout.registry().isClosed());
  }

  @ParameterizedTest(name = "{0}={1}")
  @CsvSource(delimiter = '|', value = {
      "no-auth           | false  | auth-url",
      "no-auth           | yes    | no-auth",
      "auth-url          | ''     | auth-url",
      "max-url           | 3      | unknown init parameter max-url",
      "heartbeat-interval| 15     | heartbeat-interval",
      "heartbeat-interval| 0s     | heartbeatInterval",
      "max-pending-bytes | 4MiB   | max-pending-bytes",
      "min-poll-gap      | -1s    | minPollGap",
      "allow             | a.example | allow",
      "max-clients       | 0      | maxClients",
      "max-clients       | +10    | max-clients",
      "max-clients       | \u0661\u0660 | max-clients",
      "auth-max-requests | 0      | maxConcurrentRequests",
      "auth-max-requests-per-address | 0 | maxConcurrentRequestsPerAddress",
      "postback-secret   | short  | postback-secret",
      "cors-allow-origins| app.example | cors-allow-origins",
  })
  void invalidOrMissingParameterFailsInitNamingIt(String name, String value, String named) {
    // The auth server's own parameters count only beside an auth server.
    Map<String, String> parameters = name.startsWith("no-auth") || name.equals("auth-url")
        ? Map.of(name, value)
        : name.startsWith("auth-")
            ? Map.of("auth-url", "http://127.0.0.1:9/check", name, value)
            : Map.of("no-auth", "true", name, value);

    ServletException e =
        assertThrows(ServletException.class, () -> InitParameters.fanout(config(parameters)));
    assertTrue(e.getMessage().contains(named), e.getMessage());
  }

  @Test
  void allowPrefixesShapeTheUrlPolicyAndNoAuthDefaultsToLoopback() throws Exception {
    UpstreamUrl remote = UpstreamUrl.of("http://api.example/x");
    UpstreamUrl local = UpstreamUrl.of("http://127.0.0.1:9000/x");

    try (Fanout open = InitParameters.fanout(config(Map.of("no-auth", "true")))) {
      assertNotNull(open.registry().urlPolicy().refusal(remote));
      assertNull(open.registry().urlPolicy().refusal(local));
    }
    try (Fanout behindAuth =
        InitParameters.fanout(config(Map.of("auth-url", "http://127.0.0.1:9/check")))) {
      assertNull(behindAuth.registry().urlPolicy().refusal(remote));
    }
    try (Fanout narrowed = InitParameters.fanout(
        config(Map.of("no-auth", "true", "allow", "http://api.example/")))) {
      assertNull(narrowed.registry().urlPolicy().refusal(remote));
      assertNotNull(narrowed.registry().urlPolicy().refusal(local));
    }
  }

  @Test
  void responseBufferIs8KiBUnlessSetAndIsReadWhicheverConstructorMadeTheServlet()
      throws Exception {
    assertEquals(8192, InitParameters.responseBufferBytes(config(Map.of())));
    assertEquals(32768,
        InitParameters.responseBufferBytes(config(Map.of("response-buffer-bytes", "32_768"))));

    try (Fanout fanout = Fanout.newBuilder().authorizer(Authorizer.allowAll()).build()) {
      FanoutServlet servlet = new FanoutServlet(fanout);
      ServletException e = assertThrows(ServletException.class,
          () -> servlet.init(config(Map.of("response-buffer-bytes", "12"))));
      assertEquals("FanoutServlet fanout: init parameter response-buffer-bytes must be a whole "
          + "number of bytes from 1024 to 1048576: \"12\"", e.getMessage());
    }
  }

  @Test
  void servletGivenItsFanoutInCodeFailsOnAnInitParameterMeantForAFanoutOrUnknown()
      throws Exception {
    try (Fanout fanout = Fanout.newBuilder().authorizer(Authorizer.allowAll()).build()) {
      ServletException forTheFanout = assertThrows(ServletException.class,
          () -> new FanoutServlet(fanout).init(config(Map.of("max-clients", "10"))));
      assertEquals("FanoutServlet fanout: init parameter max-clients configures a fanout, and "
          + "this servlet's was made in code: set it on the fanout's builder",
          forTheFanout.getMessage());

      ServletException misspelt = assertThrows(ServletException.class,
          () -> new FanoutServlet(() -> fanout)
              .init(config(Map.of("response-buffer-size", "32768"))));
      assertEquals("FanoutServlet fanout: unknown init parameter response-buffer-size; a servlet "
          + "given its fanout in code takes only response-buffer-bytes", misspelt.getMessage());
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"0", "1023", "1048577", "8KiB", "8k", "0x2000", "-8192", "+8192",
      "99999999999999999999", "3__2768", "_8192",
      // Arabic-Indic and fullwidth digits, which Long.parseLong reads as 8192
      "\u0668\u0661\u0669\u0662", "\uff18\uff11\uff19\uff12"})
  void responseBufferOutsideItsRangeFailsInitNamingIt(String value) {
    ServletException e = assertThrows(ServletException.class, () ->
        InitParameters.responseBufferBytes(config(Map.of("response-buffer-bytes", value))));
    assertTrue(e.getMessage().contains("response-buffer-bytes"), e.getMessage());
  }

  @Test
  void authUrlAndNoAuthExcludeEachOther() {
    ServletException e = assertThrows(ServletException.class, () -> InitParameters.fanout(
        config(Map.of("auth-url", "http://127.0.0.1:9/check", "no-auth", "true"))));
    assertTrue(e.getMessage().contains("exclude each other"), e.getMessage());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"250ms, 250", "15s, 15000", "2m, 120000", "1h, 3600000", "PT1.5S, 1500"})
  void durationsAreWrittenWithAUnitOrInIso8601(String text, long millis) {
    assertEquals(Duration.ofMillis(millis), InitParameters.duration(text));
  }

  private static ServletConfig config(Map<String, String> parameters) {
    return new ServletConfig() {
      @Override
      public String getServletName() {
        return "fanout";
      }

      @Override
      public ServletContext getServletContext() {
        throw new UnsupportedOperationException("not needed to read init parameters");
      }

      @Override
      public String getInitParameter(String name) {
        return parameters.get(name);
      }

      @Override
      public Enumeration<String> getInitParameterNames() {
        return Collections.enumeration(parameters.keySet());
      }
    };
  }
}
