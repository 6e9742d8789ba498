package io.github.lpfanout.examples;

import java.net.InetAddress;
import java.net.UnknownHostException;
import okhttp3.HttpUrl;

/**
 * One transport's server for the runnable proxy: serves a fanout at {@code /} and, in demo mode,
 * the demo upstream at {@code /demo/clock}.
 */
interface ProxyServer extends AutoCloseable {

  /** The base URL clients connect to, such as {@code http://127.0.0.1:5000}. */
  String baseUrl();

  /**
   * Stops serving and stops the threads this server started. It does not close the fanout: close
   * that first, so that streams end cleanly.
   */
  @Override
  void close();

  /**
   * {@code http://<address>:<port>} in canonical form, with an IPv6 address compressed and in
   * brackets, so that a URL built on it is accepted as an upstream URL as it is.
   */
  static String baseUrl(String host, int port) {
    String address;
    try {
      address = InetAddress.getByName(host).getHostAddress();
    } catch (UnknownHostException e) {
      address = host;
    }
    String url = new HttpUrl.Builder().scheme("http").host(address).port(port).build().toString();
    return url.substring(0, url.length() - 1);
  }
}
