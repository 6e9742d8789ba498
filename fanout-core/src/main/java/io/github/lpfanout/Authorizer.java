package io.github.lpfanout;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Decides whether a client may receive the URLs it asked for, before anything is polled or sent.
 *
 * <p>The list a client is authorized for is exactly the list it is subscribed to. Implementations
 * must be thread-safe and should not block the calling thread: {@link #authorize} is called on the
 * transport's request thread, and a slow decision belongs in the returned stage. A stage that
 * completes exceptionally refuses the client with 503.
 */
public interface Authorizer {

  /** Admits every client. Only for trusted networks and demos. */
  static Authorizer allowAll() {
    return request -> CompletableFuture.completedFuture(AuthDecision.allow());
  }

  /**
   * Asks an auth server with a POST of the URL list, using {@link HttpAuthorizer}'s defaults. Use
   * {@link HttpAuthorizer#newBuilder()} to change them.
   */
  static Authorizer http(String authUrl) {
    return HttpAuthorizer.newBuilder().authUrl(authUrl).build();
  }

  /** Returns a stage with the decision for {@code request}. */
  CompletionStage<AuthDecision> authorize(AuthRequest request);
}
