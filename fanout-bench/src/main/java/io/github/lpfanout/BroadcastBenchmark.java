package io.github.lpfanout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One message delivered to every subscriber of a topic, then taken from each client's queue as a
 * writer would: the core's whole share of a broadcast, without sockets.
 *
 * <p>It lives in the core's package because {@link Topic} and the {@link ClientStream}
 * constructor are the library's internals. Each operation checks that every client was handed the
 * very same frame, and fails if not; with {@code -prof gc}, the allocation per operation
 * stays that of one frame however many subscribers there are: no per-client encoding, no
 * per-client copy of the body.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class BroadcastBenchmark {
  private static final String URL = "http://127.0.0.1:8080/u/0";

  @Param({"1000", "10000"})
  public int subscribers;

  @Param({"sse", "bin"})
  public String format;

  @Param({"1024"})
  public int bodyBytes;

  private Topic topic;
  private List<ClientStream> streams;
  private byte[] body;

  @Setup(Level.Trial)
  public void setUp() {
    FrameEncoder encoder = format.equals("sse") ? FrameEncoder.sse() : FrameEncoder.binary();
    UpstreamUrl url = UpstreamUrl.of(URL);
    topic = new Topic(url.canonical(), null, null);
    streams = new ArrayList<>(subscribers);
    for (int i = 0; i < subscribers; i++) {
      ClientStream stream =
          new ClientStream(encoder, List.of(url), "client-" + i, 4L << 20, ended -> { });
      streams.add(stream);
      Topic.Entry entry = new Topic.Entry(url, stream);
      topic.add(entry);
      entry.goLive();
    }
    body = new byte[bodyBytes];
    Arrays.fill(body, (byte) 'x');
  }

  /** Delivers a new message to every subscriber and drains every queue; returns the frame. */
  @Benchmark
  public Frame broadcast() {
    topic.deliver(new Message(URL, body, "text/plain"));
    return drain(streams);
  }

  /**
   * Takes the one queued frame of each stream and returns it, after checking that all of them are
   * the same array.
   *
   * @throws IllegalStateException if a client got a frame of its own
   */
  static Frame drain(List<ClientStream> streams) {
    Frame shared = null;
    for (ClientStream stream : streams) {
      Frame frame = stream.poll();
      if (shared == null) {
        shared = frame;
      } else if (frame != shared) {
        throw new IllegalStateException("a client was handed a frame of its own");
      }
    }
    return shared;
  }
}
