package io.github.lpfanout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A broadcast to many clients as a proxy makes it, with each client's state cold in the cache: the
 * core's share of a delivery where a server's own per-client buffers push it out of the cache.
 *
 * <p>{@link BroadcastBenchmark} measures the core with every client's state in the cache, and
 * every client sharing one URL instance. Here each client parses its own URL, as a request does
 * (unless {@code urls} is {@code shared}), and owns a 16 KiB buffer allocated beside its state, as
 * the JDK server's response stream owns its buffers; a delivery copies the frame into that buffer,
 * as the server's stream would before its write. {@link #copyOnly} does the copies alone, so the core's share is the difference of
 * the two, divided by the number of clients.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ColdBroadcastBenchmark {
  private static final String URL = "http://127.0.0.1:8080/u/0";
  private static final int BUFFER_BYTES = 16 * 1024;

  @Param({"10000"})
  public int subscribers;

  /** {@code own}: each client parses its URL, as a request does; {@code shared}: one instance. */
  @Param({"own", "shared"})
  public String urls;

  private Topic topic;
  // Package-private for the test, which checks what each client was given.
  final List<ClientStream> streams = new ArrayList<>();
  final List<byte[]> buffers = new ArrayList<>();
  private byte[] body;

  @Setup
  public void setUp() {
    FrameEncoder encoder = FrameEncoder.sse();
    UpstreamUrl shared = UpstreamUrl.of(URL);
    topic = new Topic(shared.canonical(), null, null);
    for (int i = 0; i < subscribers; i++) {
      UpstreamUrl url =
          urls.equals("shared") ? shared : UpstreamUrl.of(new String(URL.toCharArray()));
      ClientStream stream =
          new ClientStream(encoder, List.of(url), "client-" + i, 4L << 20, ended -> { });
      Topic.Entry entry = new Topic.Entry(url, stream);
      topic.add(entry);
      entry.goLive();
      streams.add(stream);
      buffers.add(new byte[BUFFER_BYTES]);
    }
    body = new byte[1024];
    Arrays.fill(body, (byte) 'x');
  }

  /** Delivers a message, then takes each client's frame and copies it into the client's buffer. */
  @Benchmark
  public int broadcast() {
    topic.deliver(new Message(URL, body, "text/plain"));
    int copied = 0;
    for (int i = 0; i < streams.size(); i++) {
      Frame frame = streams.get(i).poll();
      copied += copy(frame.head(), frame.body(), buffers.get(i));
    }
    return copied;
  }

  /** The copies of {@link #broadcast} alone, into the same buffers, of the same sizes. */
  @Benchmark
  public int copyOnly() {
    Frame frame = new Message(URL, body, "text/plain").frame(FrameEncoder.sse(), URL);
    int copied = 0;
    for (int i = 0; i < buffers.size(); i++) {
      copied += copy(frame.head(), frame.body(), buffers.get(i));
    }
    return copied;
  }

  private static int copy(byte[] head, byte[] body, byte[] into) {
    System.arraycopy(head, 0, into, 0, head.length);
    System.arraycopy(body, 0, into, head.length, body.length);
    return head.length + body.length;
  }
}
