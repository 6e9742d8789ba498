package io.github.lpfanout;

/**
 * Receives the messages of the URLs it is subscribed to.
 *
 * <p>{@link #onMessage} is called on a poller thread, once per message and URL, in the order the
 * upstream's responses arrived; calls for one URL never overlap, calls for different URLs may.
 * It must return quickly and never block: every other subscriber of the URL waits for it.
 */
@FunctionalInterface
public interface Subscriber {

  /** Called with each new message of {@code url}. */
  void onMessage(UpstreamUrl url, Message message);
}
