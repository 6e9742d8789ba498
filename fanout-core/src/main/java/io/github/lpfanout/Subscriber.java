package io.github.lpfanout;

/**
 * Receives the messages of the URLs it is subscribed to.
 *
 * <p>{@link #onMessage} is called once per message and URL, in the order of the messages' ids,
 * which for one URL is the order the upstream's responses (or the publishes) arrived. A registry
 * calls its subscribers one at a time, never two at once, on its delivery thread. It must return
 * quickly and never block: every other subscriber of every URL waits for it.
 */
@FunctionalInterface
public interface Subscriber {

  /** Called with each new message of {@code url}. */
  void onMessage(UpstreamUrl url, Message message);
}
