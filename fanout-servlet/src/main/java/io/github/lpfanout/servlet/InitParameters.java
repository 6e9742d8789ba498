package io.github.lpfanout.servlet;

import io.github.lpfanout.Authorizer;
import io.github.lpfanout.CorsPolicy;
import io.github.lpfanout.Fanout;
import io.github.lpfanout.HttpAuthorizer;
import io.github.lpfanout.PollerRegistry;
import io.github.lpfanout.Postbacks;
import io.github.lpfanout.UrlPolicy;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import javax.servlet.ServletConfig;
import javax.servlet.ServletException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds a {@link Fanout} from a servlet's init parameters; see {@link FanoutServlet}. */
final class InitParameters {
  private static final Logger log = LoggerFactory.getLogger(FanoutServlet.class);

  static final String AUTH_URL = "auth-url";
  static final String NO_AUTH = "no-auth";
  static final String AUTH_TIMEOUT = "auth-timeout";
  static final String AUTH_MAX_REQUESTS = "auth-max-requests";
  static final String AUTH_MAX_REQUESTS_PER_ADDRESS = "auth-max-requests-per-address";
  static final String FORWARDED_HEADERS = "forwarded-headers";
  static final String MAX_URLS_PER_CLIENT = "max-urls-per-client";
  static final String MAX_TARGET_LENGTH = "max-target-length";
  static final String MAX_PENDING_BYTES = "max-pending-bytes";
  static final String HEARTBEAT_INTERVAL = "heartbeat-interval";
  static final String SHUTDOWN_GRACE = "shutdown-grace";
  static final String READ_TIMEOUT = "read-timeout";
  static final String MIN_POLL_GAP = "min-poll-gap";
  static final String MAX_BODY_BYTES = "max-body-bytes";
  static final String ALLOW = "allow";
  static final String MAX_CLIENTS = "max-clients";
  static final String MAX_POLLED_URLS = "max-polled-urls";
  static final String PUSH_FED = "push-fed";
  static final String RETRY = "retry";
  static final String LATEST_ON_JOIN = "latest-on-join";
  static final String CORS_ALLOW_ORIGINS = "cors-allow-origins";
  static final String CORS_ALLOW_CREDENTIALS = "cors-allow-credentials";
  static final String POSTBACK_SECRET = "postback-secret";
  static final String POSTBACK_PATH = "postback-path";
  static final String RESPONSE_BUFFER_BYTES = "response-buffer-bytes";

  static final int DEFAULT_RESPONSE_BUFFER_BYTES = 8192;
  private static final int MIN_RESPONSE_BUFFER_BYTES = 1024;
  private static final int MAX_RESPONSE_BUFFER_BYTES = 1 << 20;

  private static final Set<String> KNOWN = Set.of(
      AUTH_URL, NO_AUTH, AUTH_TIMEOUT, AUTH_MAX_REQUESTS, AUTH_MAX_REQUESTS_PER_ADDRESS,
      FORWARDED_HEADERS, MAX_URLS_PER_CLIENT, MAX_TARGET_LENGTH,
      MAX_PENDING_BYTES, HEARTBEAT_INTERVAL, SHUTDOWN_GRACE, READ_TIMEOUT, MIN_POLL_GAP,
      MAX_BODY_BYTES, ALLOW, MAX_CLIENTS, MAX_POLLED_URLS, PUSH_FED, RETRY, LATEST_ON_JOIN,
      CORS_ALLOW_ORIGINS, CORS_ALLOW_CREDENTIALS, POSTBACK_SECRET, POSTBACK_PATH,
      RESPONSE_BUFFER_BYTES);

  private static final Authorizer ALLOW_ALL = Authorizer.allowAll();
  private static final Pattern WHOLE_NUMBER = Pattern.compile("[0-9]+(_[0-9]+)*");

  private final ServletConfig config;

  private InitParameters(ServletConfig config) {
    this.config = config;
  }

  /**
   * A new fanout as the init parameters say.
   *
   * @throws ServletException naming the parameter, if one is unknown or invalid, or if neither
   *     {@code auth-url} nor {@code no-auth=true} is given
   */
  static Fanout fanout(ServletConfig config) throws ServletException {
    InitParameters parameters = new InitParameters(config);
    try {
      return parameters.build();
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw failure(config, e.getMessage(), e);
    }
  }

  /**
   * The response buffer each stream asks the container for, from {@code response-buffer-bytes}.
   * Read whichever constructor made the servlet, since it configures the servlet, not the fanout.
   *
   * @throws ServletException if the value is not a whole number of bytes from 1,024 to 1,048,576
   */
  static int responseBufferBytes(ServletConfig config) throws ServletException {
    String text = new InitParameters(config).value(RESPONSE_BUFFER_BYTES);
    if (text == null) {
      return DEFAULT_RESPONSE_BUFFER_BYTES;
    }
    long bytes;
    try {
      bytes = number(text);
    } catch (NumberFormatException e) {
      bytes = -1;
    }
    if (bytes < MIN_RESPONSE_BUFFER_BYTES || bytes > MAX_RESPONSE_BUFFER_BYTES) {
      throw failure(config, "init parameter " + RESPONSE_BUFFER_BYTES
          + " must be a whole number of bytes from " + MIN_RESPONSE_BUFFER_BYTES + " to "
          + MAX_RESPONSE_BUFFER_BYTES + ": \"" + text + "\"", null);
    }
    return (int) bytes;
  }

  /**
   * Checks the init parameters of a servlet that was given its fanout in code: only the servlet's
   * own parameter applies, and one meant for the fanout would otherwise be ignored in silence.
   *
   * @throws ServletException naming the first parameter that does not apply
   */
  static void requireServletParametersOnly(ServletConfig config) throws ServletException {
    for (String name : Collections.list(config.getInitParameterNames())) {
      if (name.equals(RESPONSE_BUFFER_BYTES)) {
        continue;
      }
      String why = KNOWN.contains(name)
          ? "init parameter " + name + " configures a fanout, and this servlet's was made in "
              + "code: set it on the fanout's builder"
          : "unknown init parameter " + name + "; a servlet given its fanout in code takes only "
              + RESPONSE_BUFFER_BYTES;
      throw failure(config, why, null);
    }
  }

  /** How init fails: the servlet named, then {@code message}. */
  private static ServletException failure(ServletConfig config, String message, Throwable cause) {
    return new ServletException("FanoutServlet " + config.getServletName() + ": " + message, cause);
  }

  private Fanout build() {
    for (String name : Collections.list(config.getInitParameterNames())) {
      if (!KNOWN.contains(name)) {
        throw new IllegalArgumentException("unknown init parameter " + name + "; known are "
            + KNOWN.stream().sorted().toList());
      }
    }

    Authorizer authorizer = authorizer();
    PollerRegistry.Builder registry = PollerRegistry.newBuilder();
    set(READ_TIMEOUT, InitParameters::duration, registry::readTimeout);
    set(MIN_POLL_GAP, InitParameters::duration, registry::minPollGap);
    set(MAX_BODY_BYTES, InitParameters::number, registry::maxBodyBytes);
    set(MAX_POLLED_URLS, text -> Math.toIntExact(number(text)), registry::maxPolledUrls);
    boolean admitsEveryone = authorizer == ALLOW_ALL;
    registry.urlPolicy(UrlPolicy.forDeployment(List.of(), admitsEveryone));
    set(ALLOW, text -> UrlPolicy.forDeployment(names(text), admitsEveryone), registry::urlPolicy);

    set(PUSH_FED, InitParameters::names, prefixes -> {
      prefixes.forEach(registry::pushFedPrefix);
      return registry;
    });

    Fanout.Builder fanout = Fanout.newBuilder();
    set(MAX_CLIENTS, text -> Math.toIntExact(number(text)), fanout::maxClients);
    set(RETRY, InitParameters::duration, fanout::retry);
    set(LATEST_ON_JOIN, text -> flag(LATEST_ON_JOIN, text), fanout::latestOnJoin);
    set(CORS_ALLOW_ORIGINS, this::cors, fanout::cors);
    set(POSTBACK_SECRET, this::postbacks, fanout::postbacks);
    set(MAX_URLS_PER_CLIENT, text -> Math.toIntExact(number(text)), fanout::maxUrlsPerClient);
    set(MAX_TARGET_LENGTH, text -> Math.toIntExact(number(text)), fanout::maxTargetLength);
    set(MAX_PENDING_BYTES, InitParameters::number, fanout::maxPendingBytes);
    set(HEARTBEAT_INTERVAL, InitParameters::duration, fanout::heartbeatInterval);
    set(SHUTDOWN_GRACE, InitParameters::duration, fanout::shutdownGrace);
    return fanout.authorizer(authorizer).registry(registry.build()).build();
  }

  private CorsPolicy cors(String origins) {
    CorsPolicy.Builder cors = CorsPolicy.newBuilder();
    for (String origin : names(origins)) {
      if (origin.equals("*")) {
        cors.allowAnyOrigin();
      } else {
        cors.allowOrigin(origin);
      }
    }
    String credentials = value(CORS_ALLOW_CREDENTIALS);
    cors.allowCredentials(credentials != null && flag(CORS_ALLOW_CREDENTIALS, credentials));
    return cors.build();
  }

  private Postbacks postbacks(String secret) {
    Postbacks.Builder postbacks = Postbacks.newBuilder().secret(secret);
    set(POSTBACK_PATH, text -> text, postbacks::path);
    return postbacks.build();
  }

  private Authorizer authorizer() {
    String authUrl = value(AUTH_URL);
    String noAuth = value(NO_AUTH);
    boolean allowAll = noAuth != null && flag(NO_AUTH, noAuth);
    if (authUrl != null && allowAll) {
      throw new IllegalArgumentException(AUTH_URL + " and " + NO_AUTH + "=true exclude each other");
    }
    if (authUrl == null && !allowAll) {
      throw new IllegalArgumentException("set init parameter " + AUTH_URL
          + " to the auth server's URL, or " + NO_AUTH + "=true to admit every client");
    }
    if (allowAll) {
      log.warn("FanoutServlet {} runs without authorization: every client may subscribe to any "
          + "URL the policy allows", config.getServletName());
      return ALLOW_ALL;
    }

    HttpAuthorizer.Builder http = HttpAuthorizer.newBuilder().authUrl(authUrl);
    set(AUTH_TIMEOUT, InitParameters::duration, http::timeout);
    set(AUTH_MAX_REQUESTS, text -> Math.toIntExact(number(text)), http::maxConcurrentRequests);
    set(AUTH_MAX_REQUESTS_PER_ADDRESS, text -> Math.toIntExact(number(text)),
        http::maxConcurrentRequestsPerAddress);
    set(FORWARDED_HEADERS, InitParameters::names, http::forwardedHeaders);
    return http.build();
  }

  private <T> void set(String name, Function<String, T> parse, Function<T, ?> setter) {
    String text = value(name);
    if (text == null) {
      return;
    }
    T parsed;
    try {
      parsed = parse.apply(text);
    } catch (IllegalArgumentException | ArithmeticException | DateTimeParseException e) {
      throw new IllegalArgumentException(
          "init parameter " + name + " is not valid: \"" + text + "\"", e);
    }
    setter.apply(parsed);
  }

  private String value(String name) {
    String value = config.getInitParameter(name);
    return value == null || value.isBlank() ? null : value.strip();
  }

  private static boolean flag(String name, String text) {
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException(
          "init parameter " + name + " must be true or false: " + text);
    };
  }

  /**
   * A whole number of bytes or items, in ASCII digits, with underscores allowed between digits as
   * in {@code 1_048_576}. No sign, and no other digits: {@code Long.parseLong} alone would take
   * {@code +8} and digits of every script.
   */
  private static long number(String text) {
    if (!WHOLE_NUMBER.matcher(text).matches()) {
      throw new NumberFormatException("not a whole number: " + text);
    }
    return Long.parseLong(text.replace("_", ""));
  }

  /**
   * A duration: a whole number followed by {@code ms}, {@code s}, {@code m} or {@code h}, or an
   * ISO-8601 duration such as {@code PT15S}.
   */
  static Duration duration(String text) {
    String lower = text.toLowerCase(Locale.ROOT);
    if (lower.startsWith("p")) {
      return Duration.parse(text);
    }
    if (lower.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(lower.substring(0, lower.length() - 2).strip()));
    }
    long amount = Long.parseLong(lower.substring(0, lower.length() - 1).strip());
    return switch (lower.charAt(lower.length() - 1)) {
      case 's' -> Duration.ofSeconds(amount);
      case 'm' -> Duration.ofMinutes(amount);
      case 'h' -> Duration.ofHours(amount);
      default -> throw new IllegalArgumentException("use a unit of ms, s, m or h: " + text);
    };
  }

  private static List<String> names(String text) {
    return Arrays.stream(text.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
  }
}
