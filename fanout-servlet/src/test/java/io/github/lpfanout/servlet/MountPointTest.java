package io.github.lpfanout.servlet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MountPointTest {

  @ParameterizedTest(name = "{0} below {1}")
  @CsvSource(delimiter = '|', nullValues = "NULL", value = {
      // The raw rest of the path is kept as it arrived, then the raw query.
      "/sse/http://a/x                  | ''             | NULL   | /sse/http://a/x",
      "/app/fanout/sse/http://a/x       | /app/fanout    | n=1    | /sse/http://a/x?n=1",
      "/app/fanout/sse/http%3A%2F%2Fa   | /app/fanout    | NULL   | /sse/http%3A%2F%2Fa",
      "/app/fanout/sse/http:/a/x%2Cy    | /app/fanout    | NULL   | /sse/http:/a/x%2Cy",
      // Encoded, empty, dot and parameterised segments of the mount path are matched decoded.
      "/my%20app/fan%6Fut/sse/x         | /my app/fanout | NULL   | /sse/x",
      "/app//fanout/sse/x               | /app/fanout    | NULL   | /sse/x",
      "/app/./fanout/sse/x              | /app/fanout    | NULL   | /sse/x",
      "/app/fanout;jsessionid=1/sse/x   | /app/fanout    | NULL   | /sse/x",
      "/app/fanout                      | /app/fanout    | NULL   | ''",
      "/app/fanout                      | /app/fanout    | url=x  | ?url=x",
      // Only the mount path is normalized: what follows it is the client's.
      "/app/fanout//sse/x               | /app/fanout    | NULL   | //sse/x",
  })
  void targetIsTheRawRestAfterTheMountPath(
      String uri, String mount, String query, String target) {
    assertEquals(target, MountPoint.relativeTarget(uri, mount, query));
  }

  @ParameterizedTest(name = "{0} below {1}")
  @CsvSource(delimiter = '|', value = {
      "/app/x/../fanout/sse/x  | /app/fanout",
      "/app/fanoutx/sse/x      | /app/fanout",
      "/app/fan%zzout/sse/x    | /app/fanout",
      "/app                    | /app/fanout",
  })
  void pathThatDoesNotStartWithTheMountPathHasNoTarget(String uri, String mount) {
    assertNull(MountPoint.relativeTarget(uri, mount, null));
  }
}
