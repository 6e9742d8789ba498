package io.github.lpfanout.testing;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Signs postbacks the way a publishing upstream does, from the documented recipe alone. */
public final class Signatures {

  private Signatures() {}

  /**
   * The {@code X-Fanout-Signature} value for a postback: {@code sha256=} and the hex of the
   * HMAC-SHA256 under {@code secret} of {@code <timestamp>.<url>.} followed by the body bytes.
   */
  public static String sign(String secret, long timestamp, String url, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      mac.update((timestamp + "." + url + ".").getBytes(StandardCharsets.UTF_8));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new AssertionError("HmacSHA256 is missing", e);
    }
  }
}
