package io.github.lpfanout;

import java.util.List;

/**
 * One subscriber's hold on a set of URLs. Closing it unsubscribes from all of them at once; a
 * URL's poller stops when its last subscription closes. Thread-safe and idempotent.
 */
public interface Subscription extends AutoCloseable {

  /** The URLs this subscription holds, in the order they were given. */
  List<UpstreamUrl> urls();

  /**
   * Unsubscribes. A delivery already under way on another thread may still reach the subscriber;
   * none that starts after this returns does.
   */
  @Override
  void close();
}
