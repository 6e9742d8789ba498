package io.github.lpfanout.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.BufferedSource;

/**
 * A client of the binary format that reads {@code <url>\n<uint32 length><body>} frames from a
 * streaming response and queues them. Heartbeat frames (empty URL, empty body) are counted, not
 * queued.
 */
public final class BinRecorder implements AutoCloseable {

  /** One frame, and when its last byte was read ({@link System#nanoTime()}). */
  public record Frame(String url, byte[] body, long receivedNanos) {
    public Frame(String url, byte[] body) {
      this(url, body, 0);
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      return "Frame{" + url + ", " + body.length + " bytes}";
    }

    /** Equal when the URL and the body are; the arrival time does not count. */
    @Override
    public boolean equals(Object other) {
      return other instanceof Frame frame
          && url.equals(frame.url) && Arrays.equals(body, frame.body);
    }

    @Override
    public int hashCode() {
      return url.hashCode() * 31 + Arrays.hashCode(body);
    }
  }

  private final BlockingQueue<Frame> frames = new LinkedBlockingQueue<>();
  private final CompletableFuture<Response> opened = new CompletableFuture<>();
  private final CompletableFuture<Throwable> ended = new CompletableFuture<>();
  private final Call call;
  private volatile int heartbeats;

  private BinRecorder(OkHttpClient client, String url) {
    this.call = client.newCall(new Request.Builder().url(url).build());
    call.enqueue(new Callback() {
      @Override
      public void onResponse(Call call, Response response) {
        opened.complete(response);
        try (response) {
          read(response.body().source());
          ended.complete(null);
        } catch (IOException e) {
          ended.complete(e);
        }
      }

      @Override
      public void onFailure(Call call, IOException e) {
        opened.completeExceptionally(e);
        ended.complete(e);
      }
    });
  }

  /** Connects to {@code url}. */
  public static BinRecorder connect(OkHttpClient client, String url) {
    return new BinRecorder(client, url);
  }

  private void read(BufferedSource source) throws IOException {
    while (!source.exhausted()) {
      String url = source.readUtf8LineStrict();
      long length = source.readInt() & 0xffffffffL;
      byte[] body = source.readByteArray(length);
      if (url.isEmpty() && body.length == 0) {
        heartbeats++;
      } else {
        frames.add(new Frame(url, body, System.nanoTime()));
      }
    }
  }

  /** Waits for the response headers and returns the response. */
  public Response awaitOpen() throws Exception {
    return opened.get(10, TimeUnit.SECONDS);
  }

  /** The next frame, failing if none arrives within 10 seconds. */
  public Frame next() throws InterruptedException {
    return next(Duration.ofSeconds(10));
  }

  /** The next frame, failing if none arrives within {@code timeout}. */
  public Frame next(Duration timeout) throws InterruptedException {
    Frame frame = frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (frame == null) {
      throw new AssertionError("no frame within " + timeout.toMillis() + " ms"
          + (ended.isDone() ? "; the stream ended: " + ended.getNow(null) : ""));
    }
    return frame;
  }

  /** Frames received and not yet taken. */
  public int pending() {
    return frames.size();
  }

  /** How many heartbeat frames arrived. */
  public int heartbeats() {
    return heartbeats;
  }

  @Override
  public void close() {
    call.cancel();
  }
}
