package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.lpfanout.testing.Await;
import io.github.lpfanout.testing.SseRecorder;
import io.github.lpfanout.testing.SseRecorder.Event;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.OkHttpClient;
import okio.Buffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Feeds what the SSE encoder writes to a real SSE parser (OkHttp's EventSource) over a socket, and
 * checks the events it dispatches: the type is the URL as the client wrote it, the data is the body
 * with line ends as {@code \n}.
 */
class SseEncoderTest {
  private static final String URL = "http://a.example/x";

  private final FrameEncoder sse = FrameEncoder.sse();
  private final MockWebServer server = new MockWebServer();
  private final OkHttpClient client = new OkHttpClient();
  private SseRecorder recorder;

  @BeforeEach
  void startServer() throws IOException {
    server.start(InetAddress.getByName("127.0.0.1"), 0);
  }

  @AfterEach
  void stop() {
    if (recorder != null) {
      recorder.close();
    }
    server.close();
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
  }

  @Test
  void lfLinesArriveAsLines() throws Exception {
    assertEquals("one\ntwo\nthree", roundTrip("one\ntwo\nthree"));
  }

  @Test
  void crlfLinesArriveAsLfLines() throws Exception {
    assertEquals("one\ntwo\nthree", roundTrip("one\r\ntwo\r\nthree"));
  }

  @Test
  void crLinesArriveAsLfLines() throws Exception {
    assertEquals("one\ntwo\nthree", roundTrip("one\rtwo\rthree"));
  }

  @Test
  void mixedLineEndsAndEmptyLinesAreKept() throws Exception {
    assertEquals("a\n\nb\n\nc\n\n", roundTrip("a\r\n\rb\n\r\nc\n\n"));
  }

  @Test
  void emptyBodyIsAnEventWithEmptyData() throws Exception {
    assertEquals("", roundTrip(""));
  }

  @Test
  void trailingNewlineIsKept() throws Exception {
    assertEquals("last line\n", roundTrip("last line\n"));
  }

  @Test
  void trailingCrlfAndCrAreKeptAsNewlines() throws Exception {
    assertEquals("x\n", roundTrip("x\r\n"));
    assertEquals("y\n", roundTrip("y\r"));
  }

  @Test
  void bodyOfOnlyANewlineIsANewline() throws Exception {
    assertEquals("\n", roundTrip("\n"));
  }

  @Test
  void nonAsciiUtf8Survives() throws Exception {
    String body = "h\u00e9llo \u4e16\u754c \ud83c\udf89\n\u00fcber";

    assertEquals(body, roundTrip(body));
  }

  @Test
  void iso88591BodyIsDecodedWithTheCharsetItNames() throws Exception {
    byte[] latin1 = "caf\u00e9 \u00fcber \u00a3".getBytes(StandardCharsets.ISO_8859_1);
    Message message = new Message(URL, latin1, "text/plain; charset=ISO-8859-1");

    Event event = roundTrip(URL, message);

    assertEquals("caf\u00e9 \u00fcber \u00a3", event.data());
  }

  @Test
  void bodyWithoutCharsetIsDecodedAsUtf8() throws Exception {
    byte[] utf8 = "caf\u00e9".getBytes(StandardCharsets.UTF_8);

    assertEquals("caf\u00e9", roundTrip(URL, new Message(URL, utf8, "text/plain")).data());
    assertEquals("caf\u00e9", roundTrip(URL, new Message(URL, utf8, null)).data());
  }

  @Test
  void linesThatLookLikeSseFieldsOrCommentsAreData() throws Exception {
    String body = ":not a comment\ndata: not a field\nevent: other\nid: 7\nretry: 1\n: x";

    Event event = roundTrip(URL, message(body));

    assertEquals(body, event.data());
    assertEquals(URL, event.type());
    assertNull(event.id());
  }

  @Test
  void messageWithAnIdIsAnEventWithThatId() throws Exception {
    Message message = message("body").withId(new MessageId("run1", 42));

    Event event = roundTrip(URL, message);

    assertEquals(new Event(URL, "body", "run1-42"), event);
    assertTrue(new String(sse.encode(URL, message).toByteArray(), StandardCharsets.UTF_8)
        .startsWith("id: run1-42\nevent: "));
  }

  @Test
  void eachEventCarriesItsOwnId() throws Exception {
    recorder = serve(sse.encode(URL, message("one").withId(new MessageId("r", 1))).toByteArray(),
        sse.encode(URL, message("two").withId(new MessageId("r", 2))).toByteArray());

    assertEquals(new Event(URL, "one", "r-1"), recorder.nextWithId());
    assertEquals(new Event(URL, "two", "r-2"), recorder.nextWithId());
    assertNoMoreEvents();
  }

  @Test
  void openingWithARetryIsARetryFieldThatDispatchesNothing() throws Exception {
    byte[] opening = sse.opening(Duration.ofMillis(1500));
    assertEquals("retry: 1500\n\n", new String(opening, StandardCharsets.US_ASCII));

    recorder = serve(opening, frame("first"));

    assertEquals(new Event(URL, "first", null), recorder.nextWithId());
    assertNoMoreEvents();
  }

  @Test
  void openingWithoutARetryIsEmpty() {
    assertEquals(0, sse.opening(null).length);
    assertEquals(0, FrameEncoder.binary().opening(Duration.ofSeconds(1)).length);
  }

  @Test
  void eventTypeIsTheUrlAsTheClientWroteIt() throws Exception {
    String spelling = "HTTP://A.example:80/q?ids=1,2&name=caf\u00e9";
    Message message = new Message("http://a.example/q?ids=1,2&name=caf%C3%A9",
        "body".getBytes(StandardCharsets.UTF_8), null);

    Event event = roundTrip(spelling, message);

    assertEquals(spelling, event.type());
    assertEquals("body", event.data());
  }

  @Test
  void consecutiveFramesAreSeparateEventsInOrder() throws Exception {
    recorder = serve(frame("first\n"), frame(""), frame("third"));

    assertEquals(new Event(URL, "first\n", null), recorder.next());
    assertEquals(new Event(URL, "", null), recorder.next());
    assertEquals(new Event(URL, "third", null), recorder.next());
    assertNoMoreEvents();
  }

  @Test
  void heartbeatIsACommentThatDispatchesNothing() throws Exception {
    byte[] heartbeat = sse.heartbeat();
    assertEquals(':', heartbeat[0]);

    recorder = serve(heartbeat, frame("after"), heartbeat);

    assertEquals(new Event(URL, "after", null), recorder.next());
    assertNoMoreEvents();
  }

  @Test
  void streamHeadersSayEventStreamUncachedUnbuffered() {
    assertEquals("sse", sse.name());
    assertEquals("text/event-stream; charset=utf-8", sse.contentType());
    assertEquals(Map.of("Cache-Control", "no-cache", "X-Accel-Buffering", "no"),
        sse.responseHeaders());
  }

  /** Encodes a UTF-8 body for {@link #URL} and returns the data of the one event it makes. */
  private String roundTrip(String body) throws Exception {
    return roundTrip(URL, message(body)).data();
  }

  private Event roundTrip(String spelling, Message message) throws Exception {
    if (recorder != null) {
      recorder.close();
    }
    recorder = serve(sse.encode(spelling, message).toByteArray());
    Event event = recorder.nextWithId();
    assertEquals(spelling, event.type());
    assertNoMoreEvents();
    return event;
  }

  private SseRecorder serve(byte[]... frames) {
    Buffer body = new Buffer();
    for (byte[] frame : frames) {
      body.write(frame);
    }
    server.enqueue(new MockResponse.Builder()
        .setHeader("Content-Type", sse.contentType())
        .body(body)
        .build());
    return SseRecorder.connect(client, server.url("/stream").toString());
  }

  private void assertNoMoreEvents() {
    Await.until("the served stream to end", recorder::isEnded);
    assertEquals(0, recorder.pending(), "events beyond the expected ones");
    assertTrue(recorder.isEnded());
  }

  private byte[] frame(String body) {
    return sse.encode(URL, message(body)).toByteArray();
  }

  private static Message message(String body) {
    return new Message(URL, body.getBytes(StandardCharsets.UTF_8), null);
  }
}
