package io.github.lpfanout;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;

/**
 * Reads a stream request target, {@code /<format>/<url>[,<url>...]} or {@code
 * /<format>?url=<encoded url>&url=...}, into a format and a list of upstream URLs.
 *
 * <p>This is the only place the URL list is split, decoded, repaired and validated; every
 * transport passes the raw target here. The rules:
 *
 * <ul>
 *   <li>In the path form the list is everything after {@code /<format>/}, query string included.
 *       A new URL starts at each comma ({@code ,} or {@code %2C}) followed by {@code http:} or
 *       {@code https:} in any case, or by their percent-encoded forms; any other comma belongs to
 *       the URL it is in.
 *   <li>A URL that starts with {@code http%3A} or {@code https%3A} is encoded whole and is decoded
 *       once. In the query form each {@code url} parameter is decoded once.
 *   <li>A scheme whose {@code //} was collapsed to {@code /} by an intermediary is repaired.
 *   <li>Refused with 400: an empty list or URL, a scheme other than http or https, user info,
 *       whitespace or control characters (raw or percent-encoded), an unparseable URL, more URLs
 *       than the limit, a target longer than the limit. An unknown format is 404.
 *   <li>URLs with the same canonical form count once; the first spelling is kept.
 * </ul>
 */
final class TargetParser {
  private static final Pattern COLLAPSED_SCHEME = Pattern.compile("^(?i)(https?):/(?!/)");
  private static final String[] SCHEME_STARTS = {"http:", "https:", "http%3a", "https%3a"};
  private static final String[] ENCODED_SCHEMES = {"http%3a", "https%3a"};

  private final Map<String, FrameEncoder> encoders;
  private final int maxUrls;
  private final int maxTargetLength;

  TargetParser(Map<String, FrameEncoder> encoders, int maxUrls, int maxTargetLength) {
    this.encoders = Map.copyOf(encoders);
    this.maxUrls = maxUrls;
    this.maxTargetLength = maxTargetLength;
  }

  /** A parsed target: the format's encoder and the distinct URLs, in the client's order. */
  record Target(FrameEncoder encoder, List<UpstreamUrl> urls) {}

  /** A target that cannot be served, with the answer to give. */
  static final class BadTarget extends Exception {
    private final transient Refusal refusal;

    BadTarget(int status, String reason) {
      super(reason, null, false, false);
      this.refusal = Refusal.of(status, reason);
    }

    Refusal refusal() {
      return refusal;
    }
  }

  Target parse(String rawTarget) throws BadTarget {
    if (rawTarget.length() > maxTargetLength) {
      throw new BadTarget(400, "request target is longer than " + maxTargetLength + " characters");
    }

    String target = rawTarget.startsWith("/") ? rawTarget.substring(1) : rawTarget;
    int end = indexOfAny(target, "/?");
    String format = end < 0 ? target : target.substring(0, end);
    FrameEncoder encoder = encoders.get(format);
    if (encoder == null) {
      throw new BadTarget(404, "unknown stream format '" + printable(format) + "'; use "
          + String.join(" or ", encoders.keySet().stream().sorted().map(f -> "/" + f + "/<url>")
              .toList()));
    }

    List<String> elements;
    if (end < 0) {
      elements = List.of();
    } else if (target.charAt(end) == '?') {
      elements = queryElements(target.substring(end + 1));
    } else {
      elements = pathElements(target.substring(end + 1));
    }
    if (elements.isEmpty()) {
      throw new BadTarget(400, "no upstream URL given; use /" + format + "/<url>[,<url>...]");
    }
    return new Target(encoder, distinct(elements));
  }

  private List<UpstreamUrl> distinct(List<String> spellings) throws BadTarget {
    Map<String, UpstreamUrl> byCanonical = new LinkedHashMap<>();
    for (int i = 0; i < spellings.size(); i++) {
      UpstreamUrl url = validate(i + 1, spellings.get(i));
      byCanonical.putIfAbsent(url.canonical(), url);
      if (byCanonical.size() > maxUrls) {
        throw new BadTarget(400, "too many URLs: at most " + maxUrls + " per connection");
      }
    }
    return List.copyOf(byCanonical.values());
  }

  /** Splits the path form's list, decoding each URL that is percent-encoded whole. */
  private static List<String> pathElements(String list) throws BadTarget {
    List<String> raw = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < list.length(); i++) {
      int separator = separatorLength(list, i);
      if (separator > 0 && startsWithScheme(list, i + separator)) {
        raw.add(list.substring(start, i));
        start = i + separator;
        i = start - 1;
      }
    }
    if (!list.isEmpty()) {
      raw.add(list.substring(start));
    }

    List<String> elements = new ArrayList<>(raw.size());
    for (int i = 0; i < raw.size(); i++) {
      String element = raw.get(i);
      elements.add(startsWithAny(element, 0, ENCODED_SCHEMES) ? decode(i + 1, element) : element);
    }
    return elements;
  }

  /** The values of the {@code url} parameters, each decoded once. */
  private static List<String> queryElements(String query) throws BadTarget {
    List<String> elements = new ArrayList<>();
    int index = 0;
    for (String parameter : query.split("&", -1)) {
      int equals = parameter.indexOf('=');
      String name = equals < 0 ? parameter : parameter.substring(0, equals);
      if (name.equals("url")) {
        index++;
        elements.add(equals < 0 ? "" : decode(index, parameter.substring(equals + 1)));
      }
    }
    return elements;
  }

  private static UpstreamUrl validate(int index, String element) throws BadTarget {
    String where = "URL " + index;
    if (element.isEmpty()) {
      throw new BadTarget(400, where + " is empty");
    }

    String spelling = COLLAPSED_SCHEME.matcher(element).replaceFirst("$1://");
    if (hasWhitespaceOrControl(spelling)) {
      throw new BadTarget(400, where + " contains whitespace or a control character");
    }

    int colon = spelling.indexOf(':');
    String scheme = colon < 0 ? "" : spelling.substring(0, colon);
    if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
      throw new BadTarget(400, where + " is not an http or https URL: " + printable(spelling));
    }
    if (hasUserInfo(spelling, colon)) {
      throw new BadTarget(400, where + " has user info, which is not allowed");
    }

    if (hasSchemeAfterComma(spelling)) {
      throw new BadTarget(400, where + " has a comma followed by http: or https:, which would read"
          + " as two URLs; encode that comma as %2C");
    }

    HttpUrl url = HttpUrl.parse(spelling);
    if (url == null) {
      throw new BadTarget(400, where + " is not a valid URL: " + printable(spelling));
    }
    String notNormal = notInNormalForm(spelling, colon, url);
    if (notNormal != null) {
      throw new BadTarget(400, where + " " + notNormal);
    }
    return new UpstreamUrl(spelling, url.newBuilder().fragment(null).build());
  }

  private static boolean hasSchemeAfterComma(String spelling) {
    for (int i = spelling.indexOf(','); i >= 0; i = spelling.indexOf(',', i + 1)) {
      if (startsWithScheme(spelling, i + 1)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Why the spelling would be polled as a different URL than it reads, or null if it would not.
   * OkHttp resolves dot segments, reads a backslash as a slash and canonicalizes the host, so a
   * spelling that differs from its parsed form in any of these ways is refused: the authorizer
   * must be asked about the URL that is polled, not about a text that only looks like another.
   * Case and a default port are the differences allowed, as they are in the canonical form.
   */
  private static String notInNormalForm(String spelling, int colon, HttpUrl url) {
    if (!spelling.startsWith("//", colon + 1)) {
      return "must start with " + url.scheme() + "://";
    }
    int authorityStart = colon + 3;
    int queryStart = indexOfAny(spelling, "?#");
    String beforeQuery = queryStart < 0 ? spelling : spelling.substring(0, queryStart);
    if (beforeQuery.indexOf('\\') >= 0) {
      return "has a backslash before its query; write / instead";
    }

    int pathStart = indexOfAny(beforeQuery.substring(authorityStart), "/");
    String authority = pathStart < 0
        ? beforeQuery.substring(authorityStart)
        : beforeQuery.substring(authorityStart, authorityStart + pathStart);
    String host = authority;
    int portColon = authority.lastIndexOf(':');
    if (portColon > authority.lastIndexOf(']')) {
      host = authority.substring(0, portColon);
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (!host.equalsIgnoreCase(url.host())) {
      return "has its host in a form that is not canonical; write " + url.host();
    }

    String path = pathStart < 0 ? "" : beforeQuery.substring(authorityStart + pathStart);
    for (String segment : path.split("/", -1)) {
      String dots = segment.replace("%2e", ".").replace("%2E", ".");
      if (dots.equals(".") || dots.equals("..")) {
        return "has a dot segment (. or ..) in its path";
      }
    }
    return null;
  }

  private static boolean hasUserInfo(String spelling, int colon) {
    int authorityStart = colon + 1;
    while (authorityStart < spelling.length() && spelling.charAt(authorityStart) == '/') {
      authorityStart++;
    }
    int authorityEnd = indexOfAny(spelling.substring(authorityStart), "/?#");
    String authority = authorityEnd < 0
        ? spelling.substring(authorityStart)
        : spelling.substring(authorityStart, authorityStart + authorityEnd);
    return authority.indexOf('@') >= 0 || authority.toLowerCase().contains("%40");
  }

  /**
   * Whether the text has a whitespace or control character, raw or percent-encoded: ASCII controls
   * and space, DEL, C1 controls, and Unicode white space including the line and paragraph
   * separators. A run of percent-encoded bytes is read as UTF-8 for this check.
   */
  static boolean hasWhitespaceOrControl(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) == '%') {
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        int end = i;
        while (end + 2 < text.length() && text.charAt(end) == '%' && hexByte(text, end + 1) >= 0) {
          run.write(hexByte(text, end + 1));
          end += 3;
        }
        if (run.size() > 0) {
          if (new String(run.toByteArray(), StandardCharsets.UTF_8).chars()
              .anyMatch(c -> isWhitespaceOrControl((char) c))) {
            return true;
          }
          i = end - 1;
          continue;
        }
      }
      if (isWhitespaceOrControl(text.charAt(i))) {
        return true;
      }
    }
    return false;
  }

  private static boolean isWhitespaceOrControl(char c) {
    return c <= 0x20 || (c >= 0x7f && c <= 0xa0) || Character.isWhitespace(c)
        || Character.isSpaceChar(c);
  }

  /** Percent-decodes once as UTF-8. A {@code +} stays a plus sign. */
  private static String decode(int index, String encoded) throws BadTarget {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(encoded.length());
    for (int i = 0; i < encoded.length(); i++) {
      char c = encoded.charAt(i);
      if (c != '%') {
        bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
        continue;
      }
      int value = i + 2 < encoded.length() ? hexByte(encoded, i + 1) : -1;
      if (value < 0) {
        throw new BadTarget(400, "URL " + index + " has a malformed percent-encoding");
      }
      bytes.write(value);
      i += 2;
    }

    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      throw new BadTarget(400, "URL " + index + " does not decode to UTF-8");
    }
  }

  private static int hexByte(String text, int at) {
    int high = Character.digit(text.charAt(at), 16);
    int low = Character.digit(text.charAt(at + 1), 16);
    return high < 0 || low < 0 ? -1 : high * 16 + low;
  }

  private static int separatorLength(String text, int at) {
    if (text.charAt(at) == ',') {
      return 1;
    }
    return text.regionMatches(true, at, "%2c", 0, 3) ? 3 : 0;
  }

  private static boolean startsWithScheme(String text, int at) {
    return startsWithAny(text, at, SCHEME_STARTS);
  }

  private static boolean startsWithAny(String text, int at, String[] prefixes) {
    for (String prefix : prefixes) {
      if (text.regionMatches(true, at, prefix, 0, prefix.length())) {
        return true;
      }
    }
    return false;
  }

  private static int indexOfAny(String text, String chars) {
    for (int i = 0; i < text.length(); i++) {
      if (chars.indexOf(text.charAt(i)) >= 0) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Client input fit for a one-line reason: at most 100 characters, with controls and white space
   * other than the plain space replaced.
   */
  private static String printable(String text) {
    StringBuilder out = new StringBuilder();
    text.codePoints().limit(100).forEach(c -> out.appendCodePoint(
        c != ' ' && (Character.isISOControl(c) || Character.isWhitespace(c)
            || Character.isSpaceChar(c)) ? '?' : c));
    return text.length() > 100 ? out + "..." : out.toString();
  }
}
