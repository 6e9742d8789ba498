package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Await;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.Call;
import okhttp3.Dns;
import okhttp3.EventListener;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UrlPolicyTest {

  @ParameterizedTest
  @ValueSource(strings = {
      "http://169.254.169.254/latest/meta-data/",
      "http://169.254.0.1/",
      "http://[fe80::1]/",
      "http://[::ffff:169.254.169.254]/",
      "http://100.100.100.200/",
      "http://[fd00:ec2::254]/",
      "http://2852039166/",
      "http://169.254.43518/",
      "http://10.0.0.1.5/",
      "http://999.1.1.1/",
      "http://[::169.254.169.254]/",
      "http://[64:ff9b::169.254.169.254]/",
  })
  void standardPolicyRefusesLinkLocalAndMetadataLiterals(String url) {
    assertNotNull(UrlPolicy.standard().refusal(UpstreamUrl.of(url)));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "http://api.example/x", "https://127.0.0.1:8443/x", "http://[::1]/", "http://10.1.2.3/"})
  void standardPolicyAllowsOrdinaryUrls(String url) {
    assertNull(UrlPolicy.standard().refusal(UpstreamUrl.of(url)));
  }

  @Test
  void loopbackOnlyAllowsLoopbackLiteralsAndLocalhostOnly() {
    UrlPolicy policy = UrlPolicy.loopbackOnly();

    assertNull(policy.refusal(UpstreamUrl.of("http://127.0.0.1:5000/demo/clock")));
    assertNull(policy.refusal(UpstreamUrl.of("http://[::1]/x")));
    assertNull(policy.refusal(UpstreamUrl.of("http://localhost/x")));
    assertNotNull(policy.refusal(UpstreamUrl.of("http://10.0.0.1/x")));
    assertNotNull(policy.refusal(UpstreamUrl.of("http://api.example/x")));
  }

  @Test
  void prefixesAreComparedInCanonicalFormAndNeverExtendAHost() {
    UrlPolicy policy = UrlPolicy.newBuilder().allowPrefix("HTTP://Api.Example:80").build();

    assertNull(policy.refusal(UpstreamUrl.of("http://api.example/anything")));
    assertNull(policy.refusal(UpstreamUrl.of("HTTP://API.EXAMPLE/x")));
    assertNotNull(policy.refusal(UpstreamUrl.of("http://api.example.evil/x")));
    assertNotNull(policy.refusal(UpstreamUrl.of("http://api.example:8080/x")));
    assertNotNull(policy.refusal(UpstreamUrl.of("https://api.example/x")));
  }

  @Test
  void pathPrefixesLimitToThatPath() {
    UrlPolicy policy = UrlPolicy.newBuilder().allowPrefix("http://a.example/feeds/").build();

    assertNull(policy.refusal(UpstreamUrl.of("http://a.example/feeds/1")));
    assertNotNull(policy.refusal(UpstreamUrl.of("http://a.example/admin")));
    assertNotNull(policy.refusal(UpstreamUrl.of("http://a.example/feeds")));
  }

  @Test
  void hostsAreMatchedExactlyOrBySuffix() {
    UrlPolicy policy = UrlPolicy.newBuilder()
        .allowHost("api.example")
        .allowHost("*.cdn.example")
        .build();

    assertNull(policy.refusal(UpstreamUrl.of("http://api.example/x")));
    assertNull(policy.refusal(UpstreamUrl.of("http://eu.cdn.example/x")));
    assertNotNull(policy.refusal(UpstreamUrl.of("http://cdn.example/x")));
    assertNotNull(policy.refusal(UpstreamUrl.of("http://other.example/x")));
  }

  @Test
  void schemesCanBeNarrowedAndNetworksDenied() {
    UrlPolicy policy = UrlPolicy.newBuilder()
        .allowSchemes("https")
        .denyNetwork("10.0.0.0/8")
        .build();

    assertNotNull(policy.refusal(UpstreamUrl.of("http://api.example/x")));
    assertNotNull(policy.refusal(UpstreamUrl.of("https://10.200.3.4/x")));
    assertNull(policy.refusal(UpstreamUrl.of("https://11.0.0.1/x")));
    assertThrows(IllegalArgumentException.class, () -> UrlPolicy.newBuilder().allowSchemes("ftp"));
    assertThrows(IllegalArgumentException.class, () -> UrlPolicy.newBuilder().denyNetwork("10/8"));
    assertThrows(IllegalArgumentException.class, () -> UrlPolicy.newBuilder().allowHost("a*.b"));
  }

  @Test
  void guardDropsRefusedAddressesAndFailsWhenNoneIsLeft() throws Exception {
    InetAddress metadata = InetAddress.getByName("169.254.169.254");
    InetAddress loopback = InetAddress.getByName("127.0.0.1");
    Dns resolver =
        host -> host.equals("mixed.test") ? List.of(metadata, loopback) : List.of(metadata);
    Dns guarded = UrlPolicy.standard().guard(resolver);

    assertEquals(List.of(loopback), guarded.lookup("mixed.test"));
    UnknownHostException refused =
        assertThrows(UnknownHostException.class, () -> guarded.lookup("metadata.test"));
    assertTrue(refused.getMessage().contains("URL policy"), refused.getMessage());
  }

  /**
   * A name that resolves to the metadata address is refused at connect time by the registry's own
   * guard, with no connection attempted: the test's resolver answers for the name, and an event
   * listener sees every connect the client would start.
   */
  @Test
  void registryNeverConnectsToARefusedAddressThatANameResolvesTo() throws Exception {
    InetAddress metadata = InetAddress.getByName("169.254.169.254");
    List<String> events = new CopyOnWriteArrayList<>();
    OkHttpClient client = new OkHttpClient.Builder()
        .dns(host -> {
          events.add("lookup " + host);
          return List.of(metadata);
        })
        .eventListener(new EventListener() {
          @Override
          public void connectStart(Call call, InetSocketAddress address, Proxy proxy) {
            events.add("connect " + address);
          }

          @Override
          public void callFailed(Call call, IOException e) {
            events.add("failed " + e.getMessage());
          }
        })
        .build();

    try (PollerRegistry registry = PollerRegistry.newBuilder()
        .client(client)
        .initialBackoff(Duration.ofSeconds(10))
        .maxBackoff(Duration.ofSeconds(10))
        .build()) {
      registry.subscribe(List.of(UpstreamUrl.of("http://metadata.test/latest")), (url, m) -> {});

      Await.until("the poll fails", () -> events.stream().anyMatch(e -> e.startsWith("failed")));
      assertEquals("lookup metadata.test", events.get(0));
      assertTrue(events.stream().noneMatch(e -> e.startsWith("connect")), events.toString());
      assertTrue(events.get(1).contains("URL policy"), events.toString());
    } finally {
      client.dispatcher().executorService().shutdownNow();
    }
  }

  /**
   * Where the JVM has an HTTP proxy configured ({@code -Dhttp.proxyHost}, common for egress in
   * corporate networks, or {@code java.net.useSystemProxies}), a client that used the JVM's
   * default {@code ProxySelector} would send the poll to the proxy with the host name in it: the
   * guard's {@code Dns} would never be asked, and the proxy would resolve and connect to whatever
   * the name points at, such as a name that resolves to 169.254.169.254. The registry's own
   * client connects directly.
   *
   * <p>Here the policy refuses loopback, so {@code localhost} is refused when resolved; the JVM's
   * proxy is a local mock server that answers, and connects nowhere.
   */
  @Test
  void aJvmWideHttpProxyDoesNotBypassTheGuard() throws Exception {
    java.net.ProxySelector saved = java.net.ProxySelector.getDefault();
    try (mockwebserver3.MockWebServer egress = new mockwebserver3.MockWebServer()) {
      egress.start(InetAddress.getByName("127.0.0.1"), 0);
      for (int i = 0; i < 5; i++) {
        egress.enqueue(new mockwebserver3.MockResponse.Builder()
            .code(200).body("what the refused address would have said").build());
      }
      InetSocketAddress egressAddress = new InetSocketAddress("127.0.0.1", egress.getPort());
      java.net.ProxySelector.setDefault(new java.net.ProxySelector() {
        @Override
        public List<Proxy> select(java.net.URI uri) {
          return List.of(new Proxy(Proxy.Type.HTTP, egressAddress));
        }

        @Override
        public void connectFailed(java.net.URI uri, java.net.SocketAddress address,
            IOException e) {}
      });
      UrlPolicy noLoopback = UrlPolicy.newBuilder()
          .denyNetwork("127.0.0.0/8").denyNetwork("::1/128").build();
      List<String> bodies = new CopyOnWriteArrayList<>();
      try (PollerRegistry registry = PollerRegistry.newBuilder()
          .urlPolicy(noLoopback)
          .initialBackoff(Duration.ofSeconds(10))
          .maxBackoff(Duration.ofSeconds(10))
          .build()) {
        registry.subscribe(List.of(UpstreamUrl.of("http://localhost:1/latest")),
            (url, m) -> bodies.add(new String(m.body(), java.nio.charset.StandardCharsets.UTF_8)));

        Await.until("the poll ends", () -> !bodies.isEmpty()
            || !registry.counters().upstreamErrors().isEmpty());
        assertEquals(List.of(), bodies, "delivered through the JVM's proxy");
        assertEquals(0, egress.getRequestCount(), "polls sent to the JVM's proxy");
      }
    } finally {
      java.net.ProxySelector.setDefault(saved);
    }
  }

  @Test
  void registryRefusesToSubscribeARefusedLiteral() {
    try (PollerRegistry registry = PollerRegistry.newBuilder().build()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> registry.subscribe(
              List.of(UpstreamUrl.of("http://169.254.169.254/")), (url, m) -> {}));

      assertTrue(e.getMessage().contains("may not be polled"), e.getMessage());
      assertEquals(0, registry.pollerCount());
    }
  }
}
