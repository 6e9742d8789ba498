package io.github.lpfanout;

/**
 * Thrown when a subscription would start a poller beyond the registry's limit of URLs polled at
 * once. Nothing was subscribed. Clients refused for this get 503.
 */
public final class RegistryFullException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public RegistryFullException(String message) {
    super(message);
  }
}
