package io.github.lpfanout.bench;

import io.github.lpfanout.Frame;
import io.github.lpfanout.FrameEncoder;
import io.github.lpfanout.Message;
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
 * What encoding one message costs, once per format and URL spelling. Run with {@code -prof gc}: the
 * allocation per operation is the frame plus the encoder's scratch, which a broadcast pays once,
 * not once per client (see {@code BroadcastBenchmark}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class EncoderBenchmark {
  private static final String URL = "http://127.0.0.1:8080/u/0";

  @Param({"sse", "bin"})
  public String format;

  @Param({"1024", "16384"})
  public int bodyBytes;

  private FrameEncoder encoder;
  private Message message;

  @Setup
  public void setUp() {
    encoder = format.equals("sse") ? FrameEncoder.sse() : FrameEncoder.binary();
    byte[] body = Stamp.template(bodyBytes);
    message = new Message(URL, body, "text/plain; charset=utf-8");
  }

  @Benchmark
  public Frame encode() {
    return encoder.encode(URL, message);
  }
}
