package io.github.lpfanout;

import java.util.List;
import java.util.Objects;

/**
 * What an authorizer decides on: the client's request and the URLs it will be subscribed to if
 * admitted, as the client wrote them, duplicates removed.
 *
 * @param urls the URL spellings, in the client's order
 * @param request the client's request, with its headers and address
 */
public record AuthRequest(List<String> urls, StreamRequest request) {

  public AuthRequest {
    urls = List.copyOf(urls);
    Objects.requireNonNull(request, "request");
  }
}
