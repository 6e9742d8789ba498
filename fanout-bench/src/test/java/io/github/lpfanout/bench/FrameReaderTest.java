package io.github.lpfanout.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameReaderTest {
  private static final byte[] CHUNKED_HEAD =
      ("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII);

  @Test
  void sseFramesAreReadWhereverTheBytesAreSplit() {
    byte[] stream = stream(true, ":\n\n".getBytes(StandardCharsets.US_ASCII));

    for (int split = 1; split < stream.length; split++) {
      Recorder recorder = new Recorder();
      FrameReader reader = new FrameReader(true, recorder);
      reader.read(stream, 0, split);
      reader.read(stream, split, stream.length - split);

      assertEquals(List.of(200), recorder.statuses, "split at " + split);
      assertEquals(List.of(1234L, 7L, 5678L, 8L), recorder.frames, "split at " + split);
    }
  }

  @Test
  void binFramesAreReadWhereverTheBytesAreSplit() {
    byte[] stream = stream(false, new byte[] {'\n', 0, 0, 0, 0});

    for (int split = 1; split < stream.length; split++) {
      Recorder recorder = new Recorder();
      FrameReader reader = new FrameReader(false, recorder);
      reader.read(stream, 0, split);
      reader.read(stream, split, stream.length - split);

      assertEquals(List.of(1234L, 7L, 5678L, 8L), recorder.frames, "split at " + split);
    }
  }

  @Test
  void aRefusalEndsTheResponse() {
    Recorder recorder = new Recorder();
    FrameReader reader = new FrameReader(true, recorder);
    byte[] refusal = "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno"
        .getBytes(StandardCharsets.US_ASCII);

    reader.read(refusal, 0, refusal.length);

    assertEquals(List.of(403), recorder.statuses);
    assertTrue(reader.ended());
    assertEquals(List.of(), recorder.frames);
  }

  /** A chunked response: two stamped frames with a heartbeat between, in one chunk and two. */
  private static byte[] stream(boolean sse, byte[] heartbeat) {
    Frames first = Frames.chunk(sse, "http://127.0.0.1:1/u/0", 100);
    Stamp.write(first.bytes(), first.stampAt(), 1234, 7);
    Frames second = Frames.chunk(sse, "http://127.0.0.1:1/u/0", 3000);
    Stamp.write(second.bytes(), second.stampAt(), 5678, 8);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(CHUNKED_HEAD);
    out.writeBytes(first.bytes());
    out.writeBytes((Integer.toHexString(heartbeat.length) + "\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(heartbeat);
    out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(second.bytes());
    return out.toByteArray();
  }

  private static final class Recorder implements FrameReader.Listener {
    final List<Integer> statuses = new ArrayList<>();
    final List<Long> frames = new ArrayList<>();

    @Override
    public void onStatus(int status) {
      statuses.add(status);
    }

    @Override
    public void onFrame(long time, long seq) {
      frames.add(time);
      frames.add(seq);
    }
  }
}
