package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CORS headers of stream responses and the answers to preflights, for each kind of policy. */
class CorsPolicyTest {
  private static final String APP = "https://app.example";

  private final CorsPolicy listed = CorsPolicy.newBuilder()
      .allowOrigin(APP)
      .allowOrigin("http://localhost:3000")
      .build();

  @Test
  void listedOriginIsEchoedAndEveryAnswerVariesByOrigin() {
    assertEquals(Map.of("Access-Control-Allow-Origin", APP, "Vary", "Origin"),
        listed.responseHeaders(request("Origin", APP)));
    assertEquals(Map.of("Access-Control-Allow-Origin", "HTTP://LOCALHOST:3000", "Vary", "Origin"),
        listed.responseHeaders(request("Origin", "HTTP://LOCALHOST:3000")));
  }

  @Test
  void unlistedOriginOrNoneGetsNoAllowOriginButStillVaries() {
    assertEquals(Map.of("Vary", "Origin"),
        listed.responseHeaders(request("Origin", "https://evil.example")));
    assertEquals(Map.of("Vary", "Origin"),
        listed.responseHeaders(request("Origin", "https://app.example.evil")));
    assertEquals(Map.of("Vary", "Origin"), listed.responseHeaders(request()));
    assertFalse(listed.allows("null"));
  }

  @Test
  void anyOriginWithoutCredentialsIsAStarThatDoesNotVary() {
    CorsPolicy any = CorsPolicy.newBuilder().allowAnyOrigin().build();

    assertEquals(Map.of("Access-Control-Allow-Origin", "*"),
        any.responseHeaders(request("Origin", "https://anyone.example")));
    assertEquals(Map.of(), any.responseHeaders(request()));
  }

  @Test
  void credentialsAreNeverAllowedWithAStarButWithTheEchoedOrigin() {
    CorsPolicy any = CorsPolicy.newBuilder().allowAnyOrigin().allowCredentials(true).build();
    CorsPolicy one = CorsPolicy.newBuilder().allowOrigin(APP).allowCredentials(true).build();

    for (CorsPolicy policy : List.of(any, one)) {
      assertEquals(Map.of("Access-Control-Allow-Origin", APP,
              "Access-Control-Allow-Credentials", "true", "Vary", "Origin"),
          policy.responseHeaders(request("Origin", APP)), policy.toString());
    }
    assertEquals(Map.of("Vary", "Origin"),
        one.responseHeaders(request("Origin", "https://evil.example")));
  }

  @Test
  void preflightFromAListedOriginForGetAndLastEventIdIsAllowed() {
    Refusal answer = listed.preflight(request("Origin", APP,
        "Access-Control-Request-Method", "GET",
        "Access-Control-Request-Headers", "last-event-id"));

    assertEquals(204, answer.status());
    assertEquals(0, answer.body().length);
    assertEquals(List.of(APP), answer.headers().get("Access-Control-Allow-Origin"));
    assertEquals(List.of("GET"), answer.headers().get("Access-Control-Allow-Methods"));
    assertEquals(List.of("last-event-id"), answer.headers().get("Access-Control-Allow-Headers"));
    assertEquals(List.of("600"), answer.headers().get("Access-Control-Max-Age"));
    assertTrue(answer.headers().get("Vary").get(0).startsWith("Origin"));
    assertNull(answer.headers().get("Access-Control-Allow-Credentials"));
  }

  @Test
  void preflightWithCredentialsAndAnExtraHeaderAndItsOwnMaxAge() {
    CorsPolicy policy = CorsPolicy.newBuilder()
        .allowAnyOrigin()
        .allowCredentials(true)
        .allowHeader("Authorization")
        .maxAge(Duration.ofMinutes(1))
        .build();

    Refusal answer = policy.preflight(request("Origin", APP,
        "Access-Control-Request-Method", "GET",
        "Access-Control-Request-Headers", "Last-Event-ID, authorization"));

    assertEquals(204, answer.status());
    assertEquals(List.of(APP), answer.headers().get("Access-Control-Allow-Origin"));
    assertEquals(List.of("true"), answer.headers().get("Access-Control-Allow-Credentials"));
    assertEquals(List.of("Last-Event-ID, authorization"),
        answer.headers().get("Access-Control-Allow-Headers"));
    assertEquals(List.of("60"), answer.headers().get("Access-Control-Max-Age"));
  }

  @Test
  void preflightFromAnUnlistedOriginForAnotherMethodOrHeaderIsRefused() {
    Map<String, String[]> refused = new LinkedHashMap<>();
    refused.put("unlisted origin", new String[] {"Origin", "https://evil.example",
        "Access-Control-Request-Method", "GET"});
    refused.put("POST", new String[] {"Origin", APP, "Access-Control-Request-Method", "POST"});
    refused.put("custom header", new String[] {"Origin", APP,
        "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "X-Custom"});

    refused.forEach((what, headers) -> {
      Refusal answer = listed.preflight(request(headers));
      assertEquals(403, answer.status(), what);
      assertNull(answer.headers().get("Access-Control-Allow-Origin"), what);
      assertTrue(answer.bodyText().endsWith("\n") && answer.bodyText().strip().indexOf('\n') < 0);
    });
  }

  @Test
  void optionsThatIsNoPreflightIsAnsweredWithTheAllowedMethods() {
    Refusal answer = listed.preflight(request());

    assertEquals(204, answer.status());
    assertEquals(List.of("GET, OPTIONS"), answer.headers().get("Allow"));
  }

  @Test
  void builderRefusesOriginsWithAPathAndAPolicyWithNoOrigin() {
    for (String bad : new String[] {"https://app.example/", "https://app.example/x", "app.example",
        "https://user@app.example", "*", "https://app.example?x"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> CorsPolicy.newBuilder().allowOrigin(bad), bad);
      assertTrue(e.getMessage().startsWith("allowOrigin"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class,
        () -> CorsPolicy.newBuilder().allowHeader("Bad Header"));
    assertThrows(IllegalStateException.class, () -> CorsPolicy.newBuilder().build());
  }

  private static StreamRequest request(String... namesAndValues) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      headers.put(namesAndValues[i], List.of(namesAndValues[i + 1]));
    }
    return StreamRequest.of("/sse/http://a.example/x", headers, "127.0.0.1");
  }
}
