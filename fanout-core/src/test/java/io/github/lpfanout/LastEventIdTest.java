package io.github.lpfanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where a reconnecting client's last event id is read from, and where it never is. */
class LastEventIdTest {

  @Test
  void headerIsRead() {
    assertEquals("run-7", LastEventId.of(request("/sse/http://a.example/x", "run-7")));
  }

  @Test
  void queryFormParameterIsReadAndDecoded() {
    assertEquals("run-7", LastEventId.of(request("/sse?url=http%3A%2F%2Fa.example%2Fx"
        + "&lastEventId=run-7", null)));
    assertEquals("run-7", LastEventId.of(request("/sse?lastEventId=run%2D7&url=x", null)));
  }

  @Test
  void headerWinsOverTheParameter() {
    assertEquals("run-9", LastEventId.of(request("/sse?url=x&lastEventId=run-7", "run-9")));
  }

  @Test
  void pathFormQueryBelongsToTheUpstreamUrlAndIsNeverRead() {
    assertNull(LastEventId.of(request("/sse/http://a.example/x?lastEventId=run-7", null)));
    assertNull(LastEventId.of(request("/sse/http://a.example/x?url=y&lastEventId=run-7", null)));
  }

  @Test
  void emptyOrAbsentIdIsNone() {
    assertNull(LastEventId.of(request("/sse?url=x", null)));
    assertNull(LastEventId.of(request("/sse?url=x&lastEventId=", "")));
    assertNull(LastEventId.of(request("/sse?url=x&lastEventIdentity=run-7", null)));
  }

  private static StreamRequest request(String target, String header) {
    Map<String, List<String>> headers =
        header == null ? Map.of() : Map.of("last-event-id", List.of(header));
    return StreamRequest.of(target, headers, null);
  }
}
