package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.TargetParser.BadTarget;
import io.github.lpfanout.TargetParser.Target;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TargetParserTest {
  private static final int MAX_URLS = 3;
  private static final int MAX_TARGET_LENGTH = 300;
  private static final String LONG =
      "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
          + "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";

  private final TargetParser parser = new TargetParser(
      Map.of("sse", FrameEncoder.sse(), "bin", FrameEncoder.binary()), MAX_URLS, MAX_TARGET_LENGTH);

  // Formats

  @Test
  void sseFormatSelectsTheSseEncoder() throws BadTarget {
    assertSame(FrameEncoder.sse(), parser.parse("/sse/http://a.example/x").encoder());
  }

  @Test
  void binFormatSelectsTheBinaryEncoder() throws BadTarget {
    assertSame(FrameEncoder.binary(), parser.parse("/bin/http://a.example/x").encoder());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "/ws/http://a.example/x", "/SSE/http://a.example/x", "/binary/http://a.example/x",
      "//http://a.example/x", "/", "/events?url=http%3A%2F%2Fa.example%2Fx"})
  void unknownFormatIsNotFound(String target) {
    Refusal refusal = refusal(target);

    assertEquals(404, refusal.status(), refusal.toString());
    assertOneLine(refusal);
  }

  @Test
  void unknownFormatReasonNamesTheKnownFormats() {
    String reason = refusal("/ws/http://a.example/x").bodyText();

    assertTrue(reason.contains("'ws'"), reason);
    assertTrue(reason.contains("/bin/<url>") && reason.contains("/sse/<url>"), reason);
  }

  // Splitting the list

  @Test
  void singleUrlKeepsItsPathAndQuery() throws BadTarget {
    assertEquals(List.of("http://a.example/x?since=3&n=1"),
        spellings("/sse/http://a.example/x?since=3&n=1"));
  }

  @Test
  void commaFollowedBySchemeStartsANewUrlAndOtherCommasBelongToTheUrl() throws BadTarget {
    assertEquals(List.of("http://a.example/q?ids=1,2", "http://b.example/y"),
        spellings("/sse/http://a.example/q?ids=1,2,http://b.example/y"));
  }

  @Test
  void queryStringStaysWithTheLastUrl() throws BadTarget {
    assertEquals(List.of("http://a.example/x", "http://b.example/y?since=3"),
        spellings("/sse/http://a.example/x,http://b.example/y?since=3"));
  }

  @Test
  void schemeAfterCommaMatchesInAnyCase() throws BadTarget {
    assertEquals(
        List.of("http://a.example/x", "HTTP://b.example/y", "Https://c.example/z"),
        spellings("/sse/http://a.example/x,HTTP://b.example/y,Https://c.example/z"));
  }

  @Test
  void percentEncodedSchemeAfterCommaStartsANewUrl() throws BadTarget {
    assertEquals(List.of("http://a.example/x", "http://b.example/y", "HTTPS://c.example/z"),
        spellings("/sse/http://a.example/x,http%3A%2F%2Fb.example%2Fy"
            + ",HTTPS%3a%2f%2fc.example%2fz"));
  }

  @Test
  void encodedCommaFollowedBySchemeStartsANewUrl() throws BadTarget {
    assertEquals(List.of("http://a.example/x", "http://b.example/y", "http://c.example/z"),
        spellings("/sse/http://a.example/x%2Chttp://b.example/y%2chttp://c.example/z"));
  }

  @Test
  void encodedCommaNotFollowedBySchemeStaysInTheUrlAsWritten() throws BadTarget {
    assertEquals(List.of("http://a.example/q?ids=1%2C2"),
        spellings("/sse/http://a.example/q?ids=1%2C2"));
  }

  @Test
  void commaFollowedBySomethingLikeASchemeIsNotASeparator() throws BadTarget {
    assertEquals(List.of("http://a.example/q?tags=httpd,http-x,httpsx:y,ftp://b.example/"),
        spellings("/sse/http://a.example/q?tags=httpd,http-x,httpsx:y,ftp://b.example/"));
  }

  @Test
  void urlNotEncodedWholeKeepsItsPercentEncodings() throws BadTarget {
    assertEquals(List.of("http://a.example/a%2Fb?q=%26%3D"),
        spellings("/sse/http://a.example/a%2Fb?q=%26%3D"));
  }

  // Decoding and repair

  @Test
  void urlEncodedWholeIsDecoded() throws BadTarget {
    assertEquals(List.of("http://a.example/x?a=1&b=2"),
        spellings("/sse/http%3A%2F%2Fa.example%2Fx%3Fa%3D1%26b%3D2"));
  }

  @Test
  void urlEncodedWholeIsDecodedOnlyOnce() throws BadTarget {
    assertEquals(List.of("http://a.example/x?next=http%3A%2F%2Fb.example%2F"),
        spellings("/sse/http%3A%2F%2Fa.example%2Fx%3Fnext%3Dhttp%253A%252F%252Fb.example%252F"));
  }

  @Test
  void encodedCommaInsideAUrlEncodedWholeIsDecodedWithIt() throws BadTarget {
    assertEquals(List.of("http://a.example/q?ids=1,2", "http://b.example/y"),
        spellings("/sse/http%3A%2F%2Fa.example%2Fq%3Fids%3D1%2C2%2Chttp%3A%2F%2Fb.example%2Fy"));
  }

  @Test
  void urlEncodedWholeIsDecodedAsUtf8() throws BadTarget {
    assertEquals(List.of("http://a.example/caf\u00e9"),
        spellings("/sse/http%3A%2F%2Fa.example%2Fcaf%C3%A9"));
  }

  @Test
  void collapsedSchemeSlashesAreRepaired() throws BadTarget {
    assertEquals(List.of("http://a.example/x", "HTTPS://b.example/y"),
        spellings("/sse/http:/a.example/x,HTTPS:/b.example/y"));
  }

  @Test
  void collapsedSchemeInAUrlEncodedWholeIsRepaired() throws BadTarget {
    assertEquals(List.of("http://a.example/x"), spellings("/sse/http%3A%2Fa.example%2Fx"));
  }

  @Test
  void repairedUrlIsPolledAtTheRepairedHost() throws BadTarget {
    UpstreamUrl url = parser.parse("/sse/http:/a.example/x").urls().get(0);

    assertEquals("a.example", url.url().host());
    assertEquals("/x", url.url().encodedPath());
  }

  // The query form

  @Test
  void queryFormTakesEachUrlParameterDecodedOnce() throws BadTarget {
    assertEquals(List.of("http://a.example/q?ids=1,2", "http://b.example/y%2Fz"),
        spellings("/sse?url=http%3A%2F%2Fa.example%2Fq%3Fids%3D1%2C2"
            + "&other=1&url=http%3A%2F%2Fb.example%2Fy%252Fz"));
  }

  @Test
  void queryFormNeverSplitsAParameterButRefusesACommaThatWouldReadAsTwoUrls() throws BadTarget {
    assertEquals(400, refusal(
        "/sse?url=http%3A%2F%2Fa.example%2Fq%3Fnext%3D%2Chttp%3A%2F%2Fb.example%2F").status());
    assertEquals(List.of("http://a.example/q?next=%2Chttp://b.example/"),
        spellings("/sse?url=http%3A%2F%2Fa.example%2Fq%3Fnext%3D%252Chttp%3A%2F%2Fb.example%2F"));
  }

  /**
   * What the authorizer is asked about is what is polled: a spelling that OkHttp would poll as
   * another URL (dot segments resolved, a backslash read as a slash, a host canonicalized) is
   * refused rather than authorized as one URL and polled as another.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "/sse/http://a.example/hold/../../x",
      "/sse/http://a.example/hold/%2e%2e/%2E%2E/x",
      "/sse/http://a.example/hold/%2E./.%2e/y",
      "/sse/http://a.example/./x",
      "/sse/http%3A%2F%2Fa.example%2Fhold%5C..%5C..%5Cv",
      "/sse/http:%5C%5Ca.example%5Chold",
      "/sse/http://a.example%5C.allowed.example/q",
      "/sse/http://%61dmin.corp.example/",
      "/sse/http://admin%2Ecorp.example/",
      "/sse/http://[0:0::1]/x",
      "/sse/http:a.example/x",
      "/sse/http%3A%2F%2Fa.example%2Fx%2C%68ttp%3A%2F%2Fb.example%2Fsecret",
  })
  void spellingsThatWouldBePolledAsAnotherUrlAreRefused(String target) {
    Refusal refusal = refusal(target);

    assertEquals(400, refusal.status(), refusal.toString());
    assertOneLine(refusal);
  }

  @Test
  void caseAndDefaultPortsAreTheDifferencesAllowed() throws BadTarget {
    assertEquals(List.of("HTTP://A.Example:80/x?Q=%2e%2e"),
        spellings("/sse/HTTP://A.Example:80/x?Q=%2e%2e"));
    assertEquals(List.of("http://[::1]:8080/x/..."), spellings("/sse/http://[::1]:8080/x/..."));
  }

  @Test
  void queryFormKeepsAPlusSign() throws BadTarget {
    assertEquals(List.of("http://a.example/x?q=a+b"),
        spellings("/bin?url=http%3A%2F%2Fa.example%2Fx%3Fq%3Da+b"));
  }

  @Test
  void queryFormWithoutUrlParameterIsAnEmptyList() {
    assertBadRequest("/sse?other=http%3A%2F%2Fa.example%2Fx");
  }

  // Rejections

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"/sse", "/sse/", "/bin/", "/sse?", "/sse?url"})
  void emptyListIsRejected(String target) {
    assertBadRequest(target);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "/sse/,http://a.example/x", "/sse/%2Chttp://a.example/x",
      "/sse?url=&url=http%3A%2F%2Fa.example%2Fx", "/sse?url=http%3A%2F%2Fa.example%2Fx&url="})
  void emptyElementIsRejected(String target) {
    assertBadRequest(target);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "/sse/ftp://a.example/x", "/sse/file:///etc/passwd", "/sse/javascript:alert(1)",
      "/sse/a.example/x", "/sse//a.example/x", "/sse/ws://a.example/x",
      "/sse/ftp%3A%2F%2Fa.example%2Fx", "/sse?url=gopher%3A%2F%2Fa.example%2F"})
  void schemeOtherThanHttpOrHttpsIsRejected(String target) {
    assertBadRequest(target);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "/sse/http://u:p@a.example/", "/sse/http://@a.example/", "/sse/https://u@a.example/x",
      "/sse/http://u%40a.example/", "/sse/http://u%40@a.example/",
      "/sse/http:/u:p@a.example/", "/sse/http://a.example/x,http://u:p@b.example/y",
      "/sse/http%3A%2F%2Fu%3Ap%40a.example%2F", "/sse/http%3A%2F%2Fu%2540a.example%2F",
      "/sse?url=http%3A%2F%2Fu%40a.example%2F"})
  void userInfoIsRejected(String target) {
    Refusal refusal = refusal(target);

    assertEquals(400, refusal.status(), refusal.toString());
    assertTrue(refusal.bodyText().contains("user info"), refusal.toString());
  }

  @Test
  void atSignOutsideTheAuthorityIsNotUserInfo() throws BadTarget {
    assertEquals(List.of("http://a.example/users/@me?to=x@y"),
        spellings("/sse/http://a.example/users/@me?to=x@y"));
  }

  @ParameterizedTest(name = "[{index}]")
  @ValueSource(strings = {
      "/sse/http://a.example/a b", "/sse/http://a.example/a\tb", "/sse/http://a.example/a\rb",
      "/sse/http://a.example/a\nb", "/sse/http://a.example/a\u0000b",
      "/sse/http://a.example/a\u007fb", "/sse/http://a.example/a\u0085b",
      "/sse/http://a.example/a\u00a0b", "/sse/http://a.example/a\u2028b",
      "/sse/http://a.example/x,http://b.example/y\n",
      "/sse/http://a.example/a%0Ab", "/sse/http://a.example/a%0db", "/sse/http://a.example/a%00b",
      "/sse/http://a.example/a%20b", "/sse/http://a.example/a%09b", "/sse/http://a.example/a%7Fb",
      "/sse/http://a.example/a%C2%85b", "/sse/http://a.example/a%c2%a0b",
      "/sse/http://a.example/x%20",
      "/sse/http%3A%2F%2Fa.example%2Fa%0Ab", "/sse/http%3A%2F%2Fa.example%2Fa%C2%85b",
      "/sse/http%3A%2F%2Fa.example%2Fa%250Ab", "/sse/http%3A%2F%2Fa.example%2Fa%2520b",
      "/sse?url=http%3A%2F%2Fa.example%2Fa%0Db", "/sse?url=http%3A%2F%2Fa.example%2Fa%2500b"})
  void whitespaceOrControlCharacterIsRejected(String target) {
    Refusal refusal = refusal(target);

    assertEquals(400, refusal.status(), refusal.toString());
    assertTrue(refusal.bodyText().contains("whitespace or a control character"),
        refusal.toString());
    assertOneLine(refusal);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "/sse/http://a.example/a%E2%80%A8b", "/sse/http://a.example/a%e3%80%80b",
      "/sse/http%3A%2F%2Fa.example%2Fa%25E2%2580%25A8b"})
  void percentEncodedUnicodeWhitespaceIsRejected(String target) {
    Refusal refusal = refusal(target);

    assertEquals(400, refusal.status(), refusal.toString());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "/sse/http%3A%2F%2Fa.example%2F%ZZ", "/sse/http%3A%2F%2Fa.example%2F%4",
      "/sse/http%3A%2F%2Fa.example%2F%FF", "/sse?url=http%3A%2F%2Fa.example%2F%C3",
      "/sse/http://", "/sse/http:", "/sse/https://:80/"})
  void malformedUrlIsRejected(String target) {
    assertBadRequest(target);
  }

  @Test
  void moreDistinctUrlsThanTheLimitAreRejected() {
    Refusal refusal = refusal(
        "/sse/http://a.example/1,http://a.example/2,http://a.example/3,http://a.example/4");

    assertEquals(400, refusal.status());
    assertTrue(refusal.bodyText().contains("at most " + MAX_URLS), refusal.toString());
  }

  @Test
  void urlsUpToTheLimitAreAccepted() throws BadTarget {
    assertEquals(3,
        spellings("/sse/http://a.example/1,http://a.example/2,http://a.example/3").size());
  }

  @Test
  void defaultLimitIsSixtyFourUrls() throws BadTarget {
    TargetParser defaults = new TargetParser(Map.of("sse", FrameEncoder.sse()), 64, 8192);

    assertEquals(64, defaults.parse(urlList(64)).urls().size());
    assertThrows(BadTarget.class, () -> defaults.parse(urlList(65)));
  }

  @Test
  void targetLongerThanTheLimitIsRejected() throws BadTarget {
    String prefix = "/sse/http://a.example/";
    String fits = prefix + "x".repeat(MAX_TARGET_LENGTH - prefix.length());
    assertEquals(1, spellings(fits).size());

    Refusal refusal = refusal(fits + "x");
    assertEquals(400, refusal.status());
    assertTrue(refusal.bodyText().contains("longer than " + MAX_TARGET_LENGTH), refusal.toString());
  }

  // Duplicates and the canonical form

  @Test
  void urlListedTwiceIsKeptOnceWithTheFirstSpelling() throws BadTarget {
    assertEquals(List.of("HTTP://A.example:80/x", "http://b.example/y"),
        spellings("/sse/HTTP://A.example:80/x,http://b.example/y,http://a.example/x"));
  }

  @Test
  void duplicatesDoNotCountTowardsTheLimit() throws BadTarget {
    assertEquals(List.of("http://a.example/1", "http://a.example/2", "http://a.example/3"),
        spellings("/sse/http://a.example/1,http://a.example/2,http://A.EXAMPLE/1,"
            + "http://a.example/3,http://a.example:80/2"));
  }

  @Test
  void canonicalFormLowerCasesSchemeAndHostAndDropsTheDefaultPort() throws BadTarget {
    List<UpstreamUrl> urls = parser.parse(
        "/sse/HTTP://A.Example:80/Path?Q=1,HTTPS://B.EXAMPLE:443/y,http://c.example:8080/z")
        .urls();

    assertEquals(List.of("http://a.example/Path?Q=1", "https://b.example/y",
        "http://c.example:8080/z"), urls.stream().map(UpstreamUrl::canonical).toList());
    assertEquals(List.of("HTTP://A.Example:80/Path?Q=1", "HTTPS://B.EXAMPLE:443/y",
        "http://c.example:8080/z"), urls.stream().map(UpstreamUrl::spelling).toList());
  }

  @Test
  void spellingsThatDifferInPathAreDistinct() throws BadTarget {
    assertEquals(List.of("http://a.example/x", "http://a.example/X"),
        spellings("/sse/http://a.example/x,http://a.example/X"));
  }

  @Test
  void ipv6HostIsAccepted() throws BadTarget {
    UpstreamUrl url = parser.parse("/sse/http://[::1]:8080/x").urls().get(0);

    assertEquals("http://[::1]:8080/x", url.canonical());
  }

  // Reasons

  @ParameterizedTest(name = "[{index}]")
  @ValueSource(strings = {
      "/s\nse/http://a.example/", "/s\r\u0085e/http://a.example/",
      "/sse/ftp://a.example/\u2028", "/sse/http://a.example/\r\n\r\nx",
      "/sse/http%3A%2F%2Fa.example%2F%0D%0AX-Injected%3A%201",
      "/sse/https://a.example:notaport/" + LONG})
  void reasonIsOneLine(String target) {
    assertOneLine(refusal(target));
  }

  @Test
  void reasonReplacesUnicodeLineSeparators() {
    assertOneLine(refusal("/s\u2028s\u2029e/http://a.example/"));
  }

  private List<String> spellings(String target) throws BadTarget {
    Target parsed = parser.parse(target);
    return parsed.urls().stream().map(UpstreamUrl::spelling).toList();
  }

  private Refusal refusal(String target) {
    return assertThrows(BadTarget.class, () -> parser.parse(target), target).refusal();
  }

  private void assertBadRequest(String target) {
    Refusal refusal = refusal(target);
    assertEquals(400, refusal.status(), refusal.toString());
    assertOneLine(refusal);
  }

  private static void assertOneLine(Refusal refusal) {
    String body = refusal.bodyText();
    assertTrue(body.endsWith("\n"), "reason ends with a line feed: " + body);
    String reason = body.substring(0, body.length() - 1);
    assertFalse(reason.isBlank(), "reason is empty");
    assertTrue(reason.codePoints().noneMatch(TargetParserTest::breaksALine),
        "reason is one line: " + reason);
    assertEquals(List.of("text/plain; charset=utf-8"), refusal.headers().get("Content-Type"));
  }

  private static boolean breaksALine(int c) {
    return c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || c == 0x85 || c == 0x2028
        || c == 0x2029;
  }

  private static String urlList(int count) {
    return IntStream.rangeClosed(1, count)
        .mapToObj(i -> "http://a.example/" + i)
        .collect(Collectors.joining(",", "/sse/", ""));
  }
}
