package io.github.lpfanout.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.UpstreamUrl;
import io.github.lpfanout.UrlPolicy;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProxyOptionsTest {

  @Test
  void noFlagsMeansDemoModeOnLoopbackPort5000() {
    ProxyOptions options = ProxyOptions.parse();

    assertTrue(options.demo());
    assertEquals("127.0.0.1", options.host());
    assertEquals(5000, options.port());
    assertNull(options.authServer());
  }

  @Test
  void authServerIsAcceptedInBothSpellingsAndAsASeparateValue() {
    assertEquals("http://a.example/auth",
        ProxyOptions.parse("--auth_server=http://a.example/auth").authServer());
    assertEquals("http://a.example/auth",
        ProxyOptions.parse("--auth-server=http://a.example/auth").authServer());
    assertEquals("http://a.example/auth",
        ProxyOptions.parse("--auth_server", "http://a.example/auth").authServer());
    assertFalse(ProxyOptions.parse("--auth_server=http://a.example/auth").demo());
  }

  @Test
  void noAuthLeavesDemoModeAndMayListenAnywhere() {
    ProxyOptions options = ProxyOptions.parse("--no-auth", "--host=0.0.0.0", "--port=8080");

    assertTrue(options.noAuth());
    assertFalse(options.demo());
    assertEquals("0.0.0.0", options.host());
    assertEquals(8080, options.port());
  }

  @Test
  void badFlagsAreOneLineErrors() {
    assertEquals("unknown option --bogus",
        assertThrows(IllegalArgumentException.class, () -> ProxyOptions.parse("--bogus"))
            .getMessage());
    assertThrows(IllegalArgumentException.class, () -> ProxyOptions.parse("--port=70000"));
    assertThrows(IllegalArgumentException.class, () -> ProxyOptions.parse("--port=abc"));
    assertThrows(IllegalArgumentException.class, () -> ProxyOptions.parse("--port"));
    assertThrows(IllegalArgumentException.class, () -> ProxyOptions.parse("--no-auth=yes"));
    assertThrows(IllegalArgumentException.class,
        () -> ProxyOptions.parse("--auth_server=ftp://a.example/"));
    assertThrows(IllegalArgumentException.class,
        () -> ProxyOptions.parse("--no-auth", "--auth_server=http://a.example/"));
  }

  @Test
  void demoModeRefusesANonLoopbackAddress() {
    IllegalArgumentException e = assertThrows(
        IllegalArgumentException.class, () -> ProxyOptions.parse("--host=0.0.0.0"));

    assertTrue(e.getMessage().contains("loopback"), e.getMessage());
  }

  @Test
  void allowIsRepeatableAndShapesTheUrlPolicy() {
    ProxyOptions options = ProxyOptions.parse(
        "--no-auth", "--allow=http://a.example/feeds/", "--allow", "https://b.example/");
    UrlPolicy policy = FanoutProxy.urlPolicy(options);

    assertEquals(List.of("http://a.example/feeds/", "https://b.example/"), options.allow());
    assertNull(policy.refusal(UpstreamUrl.of("http://a.example/feeds/1")));
    assertNull(policy.refusal(UpstreamUrl.of("https://b.example/x")));
    assertNotNull(policy.refusal(UpstreamUrl.of("http://a.example/admin")));
    assertThrows(IllegalArgumentException.class, () -> ProxyOptions.parse("--allow=a.example"));
  }

  @Test
  void openModesPollOnlyLoopbackUpstreamsByDefault() {
    UpstreamUrl remote = UpstreamUrl.of("http://api.example/x");
    UpstreamUrl local = UpstreamUrl.of("http://127.0.0.1:9000/x");

    for (ProxyOptions open : List.of(ProxyOptions.parse(), ProxyOptions.parse("--no-auth"))) {
      assertNotNull(FanoutProxy.urlPolicy(open).refusal(remote));
      assertNull(FanoutProxy.urlPolicy(open).refusal(local));
    }
    UrlPolicy behindAuth =
        FanoutProxy.urlPolicy(ProxyOptions.parse("--auth_server=http://127.0.0.1:9/auth"));
    assertNull(behindAuth.refusal(remote));
    assertNotNull(behindAuth.refusal(UpstreamUrl.of("http://169.254.169.254/")));
  }

  @Test
  void transportDefaultsToJdkAndTakesJettyOrTomcat() {
    assertEquals("jdk", ProxyOptions.parse().transport());
    assertEquals("jetty", ProxyOptions.parse("--transport=jetty").transport());
    assertEquals("tomcat", ProxyOptions.parse("--transport", "tomcat").transport());
    assertThrows(IllegalArgumentException.class, () -> ProxyOptions.parse("--transport=netty"));
  }

  @Test
  void helpIsRecognised() {
    assertTrue(ProxyOptions.parse("--help").help());
    assertTrue(ProxyOptions.parse("-h").help());
  }
}
