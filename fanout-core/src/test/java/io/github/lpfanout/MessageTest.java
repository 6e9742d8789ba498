package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MessageTest {
  private static final String URL = "http://a.example/x";

  private final Message message =
      new Message(URL, "body".getBytes(StandardCharsets.UTF_8), "text/plain");

  @Test
  void sameEncoderAndSpellingShareOneFrame() {
    Frame first = message.frame(FrameEncoder.sse(), URL);

    assertSame(first, message.frame(FrameEncoder.sse(), URL));
    assertArrayEquals(FrameEncoder.sse().encode(URL, message).toByteArray(), first.toByteArray());
  }

  @Test
  void otherSpellingGetsItsOwnHeadAndSharesTheBody() {
    Frame lower = message.frame(FrameEncoder.sse(), URL);
    Frame upper = message.frame(FrameEncoder.sse(), "HTTP://A.EXAMPLE/x");

    assertNotSame(lower, upper);
    assertSame(lower.body(), upper.body());
    assertArrayEquals(
        FrameEncoder.sse().encode("HTTP://A.EXAMPLE/x", message).toByteArray(),
        upper.toByteArray());
  }

  @Test
  void binaryFramesCarryTheMessagesOwnBody() {
    Frame lower = message.frame(FrameEncoder.binary(), URL);
    Frame upper = message.frame(FrameEncoder.binary(), "HTTP://A.EXAMPLE/x");

    assertSame(message.body(), lower.body());
    assertSame(message.body(), upper.body());
  }

  @Test
  void manySpellingsHoldTheBodyOncePerFormat() {
    byte[] body = new byte[1 << 20];
    Message big = new Message(URL, body, "text/plain");

    long heads = 0;
    for (int i = 0; i < 100; i++) {
      Frame frame = big.frame(FrameEncoder.sse(), "http://a.example/x?spelling=" + i);
      assertSame(big.frame(FrameEncoder.sse(), URL).body(), frame.body());
      heads += frame.head().length;
    }

    assertEquals(100 * 40, heads, 100 * 10);
  }

  @Test
  void headsAreCachedForTheFirstSpellingsOnlyAndLaterOnesGetTheirOwn() {
    String padding = "p".repeat(1000);
    List<String> spellings = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      spellings.add(URL + "#" + i + padding);
    }

    List<Frame> first = new ArrayList<>();
    for (String spelling : spellings) {
      first.add(message.frame(FrameEncoder.sse(), spelling));
    }

    int cached = 0;
    for (int i = 0; i < spellings.size(); i++) {
      Frame again = message.frame(FrameEncoder.sse(), spellings.get(i));
      assertArrayEquals(first.get(i).toByteArray(), again.toByteArray());
      assertSame(first.get(0).body(), again.body(), "the body is shared whatever the spelling");
      cached += again == first.get(i) ? 1 : 0;
    }
    assertEquals(Message.MAX_CACHED_HEAD_BYTES / 1030, cached, "spellings whose head was kept");
    assertSame(first.get(0), message.frame(FrameEncoder.sse(), spellings.get(0)));
  }

  @Test
  void otherEncoderGetsItsOwnFrame() {
    Frame sse = message.frame(FrameEncoder.sse(), URL);
    Frame bin = message.frame(FrameEncoder.binary(), URL);

    assertArrayEquals(FrameEncoder.sse().encode(URL, message).toByteArray(), sse.toByteArray());
    assertArrayEquals(FrameEncoder.binary().encode(URL, message).toByteArray(), bin.toByteArray());
  }

  @Test
  void concurrentClientsEncodeTheBodyOnceAndTheHeadOncePerSpelling() throws Exception {
    CountingEncoder encoder = new CountingEncoder();
    ExecutorService threads = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Frame>> frames = new ArrayList<>();
    try {
      for (int i = 0; i < 64; i++) {
        String spelling = i % 2 == 0 ? URL : "HTTP://a.example/x";
        frames.add(threads.submit(() -> {
          start.await();
          return message.frame(encoder, spelling);
        }));
      }
      start.countDown();

      for (int i = 0; i < frames.size(); i++) {
        Frame firstOfItsSpelling = frames.get(i % 2).get(5, TimeUnit.SECONDS);
        assertSame(firstOfItsSpelling, frames.get(i).get(5, TimeUnit.SECONDS));
      }
      assertEquals(1, encoder.bodies.get());
      assertEquals(2, encoder.heads.get());
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void charsetComesFromTheContentType() {
    assertEquals(StandardCharsets.ISO_8859_1,
        new Message(URL, new byte[0], "text/plain; charset=ISO-8859-1").charset());
    assertEquals(StandardCharsets.UTF_16BE,
        new Message(URL, new byte[0], "application/json;charset=\"utf-16be\"").charset());
  }

  @Test
  void charsetIsUtf8WhenNoneOrAnUnknownOneIsNamed() {
    assertEquals(StandardCharsets.UTF_8, new Message(URL, new byte[0], null).charset());
    assertEquals(StandardCharsets.UTF_8, new Message(URL, new byte[0], "text/plain").charset());
    assertEquals(StandardCharsets.UTF_8,
        new Message(URL, new byte[0], "text/plain; charset=x-no-such-charset").charset());
    assertEquals(StandardCharsets.UTF_8, new Message(URL, new byte[0], "not a type").charset());
  }

  /** A third format, as a user would add one, that counts how often it encodes. */
  private static final class CountingEncoder implements FrameEncoder {
    final AtomicInteger bodies = new AtomicInteger();
    final AtomicInteger heads = new AtomicInteger();

    @Override
    public String name() {
      return "count";
    }

    @Override
    public String contentType() {
      return "text/plain";
    }

    @Override
    public byte[] encodeBody(Message message) {
      bodies.incrementAndGet();
      return message.body();
    }

    @Override
    public byte[] encodeHead(String spelling, Message message) {
      heads.incrementAndGet();
      return (spelling + "\n").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] heartbeat() {
      return new byte[0];
    }
  }
}
