package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import okhttp3.Dns;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/** Names under {@code .invalid} never reach a resolver; every other name does. */
class ReservedNameDnsTest {

  /** A resolver that records each name it is asked and answers 127.0.0.1, with no lookup. */
  private static final class RecordingDns implements Dns {
    final List<String> asked = new CopyOnWriteArrayList<>();

    @Override
    public List<InetAddress> lookup(String hostname) throws UnknownHostException {
      asked.add(hostname);
      return List.of(InetAddress.getByAddress(hostname, new byte[] {127, 0, 0, 1}));
    }
  }

  @Test
  void namesUnderInvalidAreRefusedWithoutAskingTheResolver() {
    RecordingDns resolver = new RecordingDns();
    Dns dns = new ReservedNameDns(resolver);

    for (String name : List.of("upstream.invalid", "A.B.INVALID", "x.invalid.", "invalid")) {
      UnknownHostException refused =
          assertThrows(UnknownHostException.class, () -> dns.lookup(name), name);
      assertEquals(name + ": the .invalid domain never resolves (RFC 6761)", refused.getMessage());
    }
    assertEquals(List.of(), resolver.asked);
  }

  @Test
  void everyOtherNameGoesToTheResolver() throws Exception {
    RecordingDns resolver = new RecordingDns();
    Dns dns = new ReservedNameDns(resolver);

    for (String name : List.of("upstream.test", "invalid.example", "notinvalid", "invalidx")) {
      assertEquals(127, dns.lookup(name).get(0).getAddress()[0] & 0xff);
    }
    assertEquals(List.of("upstream.test", "invalid.example", "notinvalid", "invalidx"),
        resolver.asked);
  }

  @Test
  void theLibrarysOwnClientRefusesInvalidNamesAndBoundsEachCall() throws Exception {
    OkHttpClient client =
        HttpClients.create("test-own", Duration.ofSeconds(7), Duration.ofSeconds(9), 8);
    try {
      assertInstanceOf(ReservedNameDns.class, client.dns());
      assertThrows(UnknownHostException.class, () -> client.dns().lookup("upstream.invalid"));
      assertEquals(7_000, client.readTimeoutMillis());
      assertEquals(9_000, client.callTimeoutMillis());
    } finally {
      HttpClients.shutdown(client);
    }
  }
}
