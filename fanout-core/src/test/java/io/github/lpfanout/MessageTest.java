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
    byte[] first = message.frame(FrameEncoder.sse(), URL);

    assertSame(first, message.frame(FrameEncoder.sse(), URL));
    assertArrayEquals(FrameEncoder.sse().encode(URL, message), first);
  }

  @Test
  void otherSpellingGetsItsOwnFrame() {
    byte[] lower = message.frame(FrameEncoder.binary(), URL);
    byte[] upper = message.frame(FrameEncoder.binary(), "HTTP://A.EXAMPLE/x");

    assertNotSame(lower, upper);
    assertArrayEquals(FrameEncoder.binary().encode("HTTP://A.EXAMPLE/x", message), upper);
  }

  @Test
  void otherEncoderGetsItsOwnFrame() {
    byte[] sse = message.frame(FrameEncoder.sse(), URL);
    byte[] bin = message.frame(FrameEncoder.binary(), URL);

    assertArrayEquals(FrameEncoder.sse().encode(URL, message), sse);
    assertArrayEquals(FrameEncoder.binary().encode(URL, message), bin);
  }

  @Test
  void concurrentClientsEncodeOncePerSpelling() throws Exception {
    CountingEncoder encoder = new CountingEncoder();
    ExecutorService threads = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<byte[]>> frames = new ArrayList<>();
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
        byte[] firstOfItsSpelling = frames.get(i % 2).get(5, TimeUnit.SECONDS);
        assertSame(firstOfItsSpelling, frames.get(i).get(5, TimeUnit.SECONDS));
      }
      assertEquals(2, encoder.encodings.get());
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
    final AtomicInteger encodings = new AtomicInteger();

    @Override
    public String name() {
      return "count";
    }

    @Override
    public String contentType() {
      return "text/plain";
    }

    @Override
    public byte[] encode(String spelling, Message message) {
      encodings.incrementAndGet();
      return (spelling + "\n").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] heartbeat() {
      return new byte[0];
    }
  }
}
