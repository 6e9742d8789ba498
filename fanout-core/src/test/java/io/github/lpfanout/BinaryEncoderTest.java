package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.BinRecorder;
import io.github.lpfanout.testing.BinRecorder.Frame;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okio.Buffer;
import org.junit.jupiter.api.Test;

/**
 * Checks the binary frame layout byte for byte, and that a reader of the documented layout gets
 * every body back untouched over a real socket.
 */
class BinaryEncoderTest {
  private static final String URL = "http://a.example/x";

  private final FrameEncoder bin = FrameEncoder.binary();

  @Test
  void frameIsUrlNewlineBigEndianLengthAndBody() {
    byte[] frame = bin.encode(URL, message(new byte[] {'a', 'b', 'c'})).toByteArray();

    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.writeBytes(URL.getBytes(StandardCharsets.US_ASCII));
    expected.write('\n');
    expected.writeBytes(new byte[] {0, 0, 0, 3});
    expected.writeBytes(new byte[] {'a', 'b', 'c'});
    assertArrayEquals(expected.toByteArray(), frame);
  }

  @Test
  void lengthIsBigEndian() {
    byte[] body = new byte[0x010203];

    byte[] frame = bin.encode(URL, message(body)).toByteArray();

    int at = URL.length() + 1;
    assertArrayEquals(new byte[] {0, 1, 2, 3}, Arrays.copyOfRange(frame, at, at + 4));
    assertEquals(at + 4 + body.length, frame.length);
  }

  @Test
  void emptyBodyIsAZeroLength() {
    byte[] frame = bin.encode(URL, message(new byte[0])).toByteArray();

    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.writeBytes(URL.getBytes(StandardCharsets.US_ASCII));
    expected.writeBytes(new byte[] {'\n', 0, 0, 0, 0});
    assertArrayEquals(expected.toByteArray(), frame);
  }

  @Test
  void urlIsTheSpellingInUtf8() {
    String spelling = "HTTP://A.example:80/caf\u00e9";

    byte[] frame = bin.encode(spelling, message(new byte[] {1})).toByteArray();

    byte[] url = spelling.getBytes(StandardCharsets.UTF_8);
    assertArrayEquals(url, Arrays.copyOf(frame, url.length));
    assertEquals('\n', frame[url.length]);
  }

  @Test
  void bodyIsNotTranscodedWhateverItsCharset() {
    byte[] latin1 = "caf\u00e9".getBytes(StandardCharsets.ISO_8859_1);

    Message message = new Message(URL, latin1, "text/plain; charset=ISO-8859-1");
    byte[] frame = bin.encode(URL, message).toByteArray();

    assertArrayEquals(latin1, Arrays.copyOfRange(frame, frame.length - 4, frame.length));
  }

  @Test
  void heartbeatIsAnEmptyUrlWithAnEmptyBody() {
    assertArrayEquals(new byte[] {'\n', 0, 0, 0, 0}, bin.heartbeat());
  }

  @Test
  void contentTypeIsOctetStream() {
    assertEquals("bin", bin.name());
    assertEquals("application/octet-stream", bin.contentType());
  }

  @Test
  void awkwardAndLargeBodiesSurviveARealStream() throws Exception {
    byte[] newlines = {'\n', '\n', '\r', '\n'};
    byte[] controls = {0, (byte) 0xff, 0, '\n', (byte) 0xff, (byte) 0x80, (byte) 0xfe};
    byte[] empty = new byte[0];
    byte[] mebibyte = new byte[1024 * 1024];
    new Random(42).nextBytes(mebibyte);
    String other = "https://b.example/y?ids=1,2";

    Buffer stream = new Buffer()
        .write(bin.encode(URL, message(newlines)).toByteArray())
        .write(bin.heartbeat())
        .write(bin.encode(other, message(controls)).toByteArray())
        .write(bin.encode(URL, message(empty)).toByteArray())
        .write(bin.encode(other, message(mebibyte)).toByteArray());

    try (MockWebServer server = new MockWebServer()) {
      server.start(InetAddress.getByName("127.0.0.1"), 0);
      server.enqueue(new MockResponse.Builder()
          .setHeader("Content-Type", bin.contentType())
          .body(stream)
          .build());
      OkHttpClient client = new OkHttpClient();
      try (BinRecorder reader = BinRecorder.connect(client, server.url("/bin").toString())) {
        assertEquals(new Frame(URL, newlines), reader.next());
        assertEquals(new Frame(other, controls), reader.next());
        assertEquals(new Frame(URL, empty), reader.next());
        assertEquals(new Frame(other, mebibyte), reader.next());
        Await.until("the heartbeat counted", () -> reader.heartbeats() == 1);
        assertEquals(0, reader.pending());
      } finally {
        client.dispatcher().executorService().shutdown();
        client.connectionPool().evictAll();
      }
    }
  }

  private static Message message(byte[] body) {
    return new Message(URL, body, "application/octet-stream");
  }
}
