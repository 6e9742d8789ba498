package io.github.lpfanout;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import okhttp3.Dns;

/**
 * A resolver that refuses, without any lookup, the names RFC 6761 reserves as never resolving:
 * {@code invalid} and every name under it. Every other name goes to the delegate.
 *
 * <p>Such a name can only be a mistake or a test, and sending it to the system resolver costs a
 * query, and a wait, for an answer that is known in advance. Thread-safe if the delegate is.
 */
final class ReservedNameDns implements Dns {
  private final Dns delegate;

  ReservedNameDns(Dns delegate) {
    this.delegate = delegate;
  }

  @Override
  public List<InetAddress> lookup(String hostname) throws UnknownHostException {
    if (isInvalid(hostname)) {
      throw new UnknownHostException(hostname + ": the .invalid domain never resolves (RFC 6761)");
    }
    return delegate.lookup(hostname);
  }

  /** Whether {@code hostname}, with or without a final dot, is {@code invalid} or under it. */
  static boolean isInvalid(String hostname) {
    String name = hostname.toLowerCase(Locale.ROOT);
    if (name.endsWith(".")) {
      name = name.substring(0, name.length() - 1);
    }
    return name.equals("invalid") || name.endsWith(".invalid");
  }
}
