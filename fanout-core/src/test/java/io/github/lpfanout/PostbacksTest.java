package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Signatures;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** How a postback proves the secret: bearer token or signature, and every way that fails. */
class PostbacksTest {
  private static final String SECRET = "0123456789abcdef-secret";
  private static final String URL = "http://push.example/feed?x=1";
  private static final byte[] BODY = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);

  private final AtomicLong nowSeconds = new AtomicLong(1_800_000_000L);
  private final Postbacks postbacks = Postbacks.newBuilder()
      .secret(SECRET)
      .clock(clock())
      .build();

  @Test
  void bearerTokenOfTheSecretProvesIt() {
    assertNull(postbacks.refusal(request("Authorization", "Bearer " + SECRET), URL, BODY));
    assertNull(postbacks.refusal(request("Authorization", "bearer " + SECRET), URL, BODY));
  }

  @Test
  void wrongOrMissingBearerTokenIsRefused() {
    assertNotNull(postbacks.refusal(request("Authorization", "Bearer " + SECRET + "x"), URL, BODY));
    assertNotNull(postbacks.refusal(request("Authorization", "Bearer "), URL, BODY));
    assertNotNull(postbacks.refusal(request("Authorization", "Basic " + SECRET), URL, BODY));
    assertNotNull(postbacks.refusal(request(), URL, BODY));
  }

  @Test
  void bearerTokenIsRefusedOnceTurnedOff() {
    Postbacks signedOnly = Postbacks.newBuilder().secret(SECRET).acceptBearerToken(false).build();

    assertEquals("a signature is required",
        signedOnly.refusal(request("Authorization", "Bearer " + SECRET), URL, BODY));
    assertEquals("X-Fanout-Signature", signedOnly.challenge());
  }

  @Test
  void signatureOfTimestampUrlAndBodyProvesIt() {
    long timestamp = nowSeconds.get() - 10;

    assertNull(postbacks.refusal(signed(timestamp, sign(SECRET, timestamp, URL, BODY)), URL, BODY));
  }

  @Test
  void signatureIsJudgedAloneEvenBesideAGoodBearerToken() {
    long timestamp = nowSeconds.get();
    StreamRequest request = request("Authorization", "Bearer " + SECRET,
        "X-Fanout-Timestamp", String.valueOf(timestamp), "X-Fanout-Signature", "sha256=00");

    assertEquals("wrong signature", postbacks.refusal(request, URL, BODY));
  }

  @Test
  void signatureUnderAnotherSecretOrOfAnotherUrlOrBodyIsRefused() {
    long timestamp = nowSeconds.get();
    String good = sign(SECRET, timestamp, URL, BODY);

    assertEquals("wrong signature", postbacks.refusal(
        signed(timestamp, sign("another-secret-of-16", timestamp, URL, BODY)), URL, BODY));
    assertEquals("wrong signature",
        postbacks.refusal(signed(timestamp, good), "http://push.example/other", BODY));
    assertEquals("wrong signature",
        postbacks.refusal(signed(timestamp, good), URL, "{\"n\":2}".getBytes()));
    assertEquals("wrong signature", postbacks.refusal(signed(timestamp + 1, good), URL, BODY));
  }

  @Test
  void signatureOutsideTheWindowEitherWayIsRefused() {
    for (long timestamp : new long[] {nowSeconds.get() - 301, nowSeconds.get() + 301}) {
      String refusal = postbacks.refusal(
          signed(timestamp, sign(SECRET, timestamp, URL, BODY)), URL, BODY);
      assertTrue(refusal.contains("outside the window"), refusal);
    }
    long edge = nowSeconds.get() - 300;
    assertNull(postbacks.refusal(signed(edge, sign(SECRET, edge, URL, BODY)), URL, BODY));
  }

  @Test
  void signatureAcceptedOnceIsRefusedWhenReplayedWithinTheWindow() {
    long timestamp = nowSeconds.get();
    StreamRequest request = signed(timestamp, sign(SECRET, timestamp, URL, BODY));

    assertNull(postbacks.refusal(request, URL, BODY));
    nowSeconds.addAndGet(299);
    assertEquals("the signature was already used", postbacks.refusal(request, URL, BODY));
    nowSeconds.addAndGet(2);
    assertTrue(postbacks.refusal(request, URL, BODY).contains("outside the window"));
  }

  @Test
  void signatureThatWasRefusedMayBeSentAgainOnceItsProblemIsGone() {
    long future = nowSeconds.get() + 400;
    StreamRequest early = signed(future, sign(SECRET, future, URL, BODY));

    assertTrue(postbacks.refusal(early, URL, BODY).contains("outside the window"));
    nowSeconds.addAndGet(400);
    assertNull(postbacks.refusal(early, URL, BODY));
  }

  @Test
  void malformedSignatureHeadersAreRefused() {
    long timestamp = nowSeconds.get();
    String hex = sign(SECRET, timestamp, URL, BODY);
    Map<String, StreamRequest> bad = new LinkedHashMap<>();
    bad.put("no prefix", signedRaw(String.valueOf(timestamp), hex.substring(7)));
    bad.put("odd hex", signedRaw(String.valueOf(timestamp), "sha256=abc"));
    bad.put("not hex", signedRaw(String.valueOf(timestamp), "sha256=zz"));
    bad.put("no timestamp", request("X-Fanout-Signature", hex));
    bad.put("timestamp not a number", signedRaw("yesterday", hex));

    bad.forEach((what, request) -> assertNotNull(postbacks.refusal(request, URL, BODY), what));
  }

  @Test
  void hexOfTheSignatureMayBeUpperCase() {
    long timestamp = nowSeconds.get();
    String upper = "sha256=" + sign(SECRET, timestamp, URL, BODY).substring(7).toUpperCase();

    assertNull(postbacks.refusal(signed(timestamp, upper), URL, BODY));
  }

  @Test
  void builderRefusesAShortOrMissingSecretAndAPathOfMoreThanOneSegment() {
    assertThrows(IllegalArgumentException.class, () -> Postbacks.newBuilder().secret("short"));
    assertThrows(IllegalStateException.class, () -> Postbacks.newBuilder().build());
    for (String bad : new String[] {"", "a/b", "a?b", "a%2Fb"}) {
      assertThrows(IllegalArgumentException.class, () -> Postbacks.newBuilder().path(bad), bad);
    }
    assertThrows(IllegalArgumentException.class,
        () -> Postbacks.newBuilder().signatureWindow(Duration.ZERO));
  }

  private static String sign(String secret, long timestamp, String url, byte[] body) {
    return Signatures.sign(secret, timestamp, url, body);
  }

  private InstantSource clock() {
    return () -> Instant.ofEpochSecond(nowSeconds.get());
  }

  private static StreamRequest signed(long timestamp, String signature) {
    return signedRaw(String.valueOf(timestamp), signature);
  }

  private static StreamRequest signedRaw(String timestamp, String signature) {
    return request("X-Fanout-Timestamp", timestamp, "X-Fanout-Signature", signature);
  }

  private static StreamRequest request(String... namesAndValues) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      headers.put(namesAndValues[i], List.of(namesAndValues[i + 1]));
    }
    return StreamRequest.of("/publish?url=x", headers, "127.0.0.1");
  }
}
