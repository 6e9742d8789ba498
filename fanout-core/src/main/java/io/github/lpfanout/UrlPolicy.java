package io.github.lpfanout;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import okhttp3.Dns;
import okhttp3.HttpUrl;

/**
 * Decides which upstream URLs may be polled at all, whatever an authorizer says.
 *
 * <p>The proxy fetches what clients name, so without a policy a client could make it fetch from
 * the machine's own network: a cloud metadata service, a router's admin page. A policy allows URLs
 * by scheme, by host (exact, or {@code *.suffix}) and by URL prefix, and refuses addresses in
 * denied networks. By default link-local networks (169.254.0.0/16, fe80::/10, which hold the usual
 * cloud metadata address 169.254.169.254) and the other known metadata addresses
 * (100.100.100.200, fd00:ec2::254) are refused.
 *
 * <p>Addresses are checked twice: a URL whose host is an IP literal is refused when the client
 * asks for it, and a host name is checked at connect time, through {@link #guard(Dns)}, against
 * every address it resolves to, so that DNS cannot swap a refused address in after the first check.
 * {@link PollerRegistry} installs the guard on the client it polls with.
 *
 * <p>Immutable and thread-safe.
 */
public final class UrlPolicy {
  private static final Pattern IPV4_LITERAL = Pattern.compile("[0-9.]+");
  private static final Pattern DOTTED_QUAD = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private static final List<String> DEFAULT_DENIED_NETWORKS = List.of(
      "169.254.0.0/16", "fe80::/10", "100.100.100.200/32", "fd00:ec2::254/128");
  private static final UrlPolicy STANDARD = newBuilder().build();
  private static final UrlPolicy LOOPBACK_ONLY = newBuilder().loopbackOnly(true).build();

  private final Set<String> schemes;
  private final List<String> hosts;
  private final List<String> prefixes;
  private final List<Network> deniedNetworks;
  private final boolean loopbackOnly;

  private UrlPolicy(Builder builder) {
    this.schemes = Set.copyOf(builder.schemes);
    this.hosts = List.copyOf(builder.hosts);
    this.prefixes = List.copyOf(builder.prefixes);
    this.deniedNetworks = List.copyOf(builder.deniedNetworks);
    this.loopbackOnly = builder.loopbackOnly;
  }

  /** Any http or https URL, except link-local and cloud metadata addresses. */
  public static UrlPolicy standard() {
    return STANDARD;
  }

  /** Only URLs whose host is a loopback address, or a name that resolves only to loopback. */
  public static UrlPolicy loopbackOnly() {
    return LOOPBACK_ONLY;
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /**
   * The policy for a deployment configured only by a list of allowed prefixes, as the runnable
   * proxy and the servlet's init parameters are: the prefixes if any are given; otherwise {@link
   * #standard()} when an authorizer decides on each client, and {@link #loopbackOnly()} when every
   * client is admitted, since anyone who reaches such a server chooses what it fetches.
   */
  public static UrlPolicy forDeployment(List<String> allowedPrefixes, boolean admitsEveryone) {
    if (allowedPrefixes.isEmpty()) {
      return admitsEveryone ? loopbackOnly() : standard();
    }
    Builder policy = newBuilder();
    allowedPrefixes.forEach(policy::allowPrefix);
    return policy.build();
  }

  /**
   * Returns why {@code url} may not be polled, as a short phrase, or null if it may. Host names are
   * not resolved here; their addresses are checked at connect time.
   */
  public String refusal(UpstreamUrl url) {
    HttpUrl parsed = url.url();
    if (!schemes.contains(parsed.scheme())) {
      return "its scheme is not allowed";
    }
    if (!hosts.isEmpty() && hosts.stream().noneMatch(host -> hostMatches(host, parsed.host()))) {
      return "its host is not allowed";
    }
    if (!prefixes.isEmpty() && prefixes.stream().noneMatch(url.canonical()::startsWith)) {
      return "it matches no allowed prefix";
    }

    InetAddress literal = ipLiteral(parsed.host());
    if (looksNumeric(parsed.host()) && literal == null) {
      return "its host looks like an IPv4 address but is not four numbers from 0 to 255";
    }
    if (literal != null && !allowsAddress(literal)) {
      return "its address is not allowed";
    }
    if (literal == null && loopbackOnly && !parsed.host().equals("localhost")) {
      return "only loopback upstreams are allowed";
    }
    return null;
  }

  /**
   * Whether a connection to {@code address} is allowed. An IPv6 address that carries an IPv4 one
   * (IPv4-compatible {@code ::a.b.c.d}, NAT64 {@code 64:ff9b::a.b.c.d}) must pass for both.
   */
  public boolean allowsAddress(InetAddress address) {
    if (loopbackOnly && !address.isLoopbackAddress()) {
      return false;
    }
    for (Network network : deniedNetworks) {
      if (network.contains(address)) {
        return false;
      }
    }
    InetAddress embedded = embeddedIpv4(address);
    return embedded == null || allowsAddress(embedded);
  }

  /** The IPv4 address inside an IPv4-compatible or NAT64 IPv6 address, or null. */
  private static InetAddress embeddedIpv4(InetAddress address) {
    byte[] bytes = address.getAddress();
    if (bytes.length != 16 || address.isLoopbackAddress() || address.isAnyLocalAddress()) {
      return null;
    }
    boolean compatible = true;
    for (int i = 0; i < 12; i++) {
      compatible &= bytes[i] == 0;
    }
    byte[] nat64 = {0, 0x64, (byte) 0xff, (byte) 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (!compatible && !java.util.Arrays.equals(bytes, 0, 12, nat64, 0, 12)) {
      return null;
    }
    try {
      return InetAddress.getByAddress(java.util.Arrays.copyOfRange(bytes, 12, 16));
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /**
   * Wraps {@code delegate} so that a lookup returns only allowed addresses, and fails with an
   * {@link UnknownHostException} if none is left. OkHttp connects only to the addresses its
   * {@code Dns} returns, so a refused address is never connected to.
   */
  public Dns guard(Dns delegate) {
    Objects.requireNonNull(delegate, "delegate");
    return hostname -> {
      List<InetAddress> allowed = new ArrayList<>();
      for (InetAddress address : delegate.lookup(hostname)) {
        if (allowsAddress(address)) {
          allowed.add(address);
        }
      }
      if (allowed.isEmpty()) {
        throw new UnknownHostException(
            hostname + " resolves only to addresses that the URL policy refuses");
      }
      return allowed;
    };
  }

  /**
   * Whether OkHttp takes the host for an IPv4 literal, which it connects to without asking its
   * {@code Dns}: digits and dots only.
   */
  private static boolean looksNumeric(String host) {
    return IPV4_LITERAL.matcher(host).matches();
  }

  /**
   * The host parsed as an IP address if it is a literal: an IPv6 address or four decimal numbers.
   * Never resolves a name, so no lookup happens on the request path.
   */
  private static InetAddress ipLiteral(String host) {
    try {
      if (host.contains(":")) {
        return InetAddress.getByName(host.startsWith("[") ? host : "[" + host + "]");
      }
      if (!DOTTED_QUAD.matcher(host).matches()) {
        return null;
      }
      byte[] bytes = new byte[4];
      String[] parts = host.split("\\.");
      for (int i = 0; i < 4; i++) {
        int value = Integer.parseInt(parts[i]);
        if (value > 255) {
          return null;
        }
        bytes[i] = (byte) value;
      }
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static boolean hostMatches(String pattern, String host) {
    if (pattern.startsWith("*.")) {
      return host.endsWith(pattern.substring(1));
    }
    return host.equals(pattern);
  }

  @Override
  public String toString() {
    return "UrlPolicy{schemes=" + schemes + ", hosts=" + hosts + ", prefixes=" + prefixes
        + ", denied=" + deniedNetworks + (loopbackOnly ? ", loopback only" : "") + "}";
  }

  /** Configures a {@link UrlPolicy}. Not thread-safe. */
  public static final class Builder {
    private Set<String> schemes = Set.of("http", "https");
    private final List<String> hosts = new ArrayList<>();
    private final List<String> prefixes = new ArrayList<>();
    private final List<Network> deniedNetworks = new ArrayList<>();
    private boolean loopbackOnly;

    private Builder() {
      DEFAULT_DENIED_NETWORKS.forEach(this::denyNetwork);
    }

    /** The schemes allowed, {@code http} and/or {@code https}. Default both. */
    public Builder allowSchemes(String... schemes) {
      Set<String> lower = new java.util.HashSet<>();
      for (String scheme : schemes) {
        String value = scheme.toLowerCase(Locale.ROOT);
        if (!value.equals("http") && !value.equals("https")) {
          throw new IllegalArgumentException("allowSchemes takes http and https only: " + scheme);
        }
        lower.add(value);
      }
      this.schemes = lower;
      return this;
    }

    /**
     * Allows a host, exactly ({@code api.example}) or with its subdomains ({@code *.example}). Once
     * any host is allowed, every other host is refused.
     */
    public Builder allowHost(String host) {
      String value = host.toLowerCase(Locale.ROOT);
      boolean wildcardInside = value.contains("*") && !value.startsWith("*.");
      if (value.isEmpty() || value.equals("*.") || wildcardInside) {
        throw new IllegalArgumentException("allowHost takes a host or *.suffix: " + host);
      }
      hosts.add(value);
      return this;
    }

    /**
     * Allows URLs that start with {@code prefix}, compared in canonical form ({@code
     * HTTP://API.example:80} is {@code http://api.example/}). Once any prefix is allowed, every
     * URL that matches none is refused. A prefix always includes at least the path's first
     * {@code /}, so {@code http://a.example} never matches {@code http://a.example.evil/}; end it
     * with {@code /} to allow one path and what is below it ({@code http://a.example/api/}).
     */
    public Builder allowPrefix(String prefix) {
      HttpUrl parsed = HttpUrl.parse(prefix);
      if (parsed == null) {
        throw new IllegalArgumentException("allowPrefix takes an http or https URL: " + prefix);
      }
      prefixes.add(parsed.newBuilder().fragment(null).build().toString());
      return this;
    }

    /** Refuses every address in {@code cidr}, such as {@code 10.0.0.0/8} or {@code fc00::/7}. */
    public Builder denyNetwork(String cidr) {
      deniedNetworks.add(Network.parse(cidr));
      return this;
    }

    /** Allows loopback addresses only. Default false. */
    public Builder loopbackOnly(boolean loopbackOnly) {
      this.loopbackOnly = loopbackOnly;
      return this;
    }

    public UrlPolicy build() {
      return new UrlPolicy(this);
    }
  }

  /** An IPv4 or IPv6 network in CIDR notation. */
  private record Network(byte[] address, int prefixLength, String text) {

    static Network parse(String cidr) {
      int slash = cidr.indexOf('/');
      if (slash < 0) {
        throw new IllegalArgumentException("not a CIDR network: " + cidr);
      }
      String host = cidr.substring(0, slash);
      if (!host.contains(":") && !DOTTED_QUAD.matcher(host).matches() || ipLiteral(host) == null) {
        throw new IllegalArgumentException("not a CIDR network: " + cidr);
      }
      byte[] address = ipLiteral(host).getAddress();
      int prefixLength;
      try {
        prefixLength = Integer.parseInt(cidr.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not a CIDR network: " + cidr, e);
      }
      if (prefixLength < 0 || prefixLength > address.length * 8) {
        throw new IllegalArgumentException("prefix length out of range: " + cidr);
      }
      return new Network(address, prefixLength, cidr);
    }

    boolean contains(InetAddress candidate) {
      byte[] bytes = candidate.getAddress();
      if (bytes.length != address.length) {
        return false;
      }
      int fullBytes = prefixLength / 8;
      for (int i = 0; i < fullBytes; i++) {
        if (bytes[i] != address[i]) {
          return false;
        }
      }
      int remainingBits = prefixLength % 8;
      if (remainingBits == 0) {
        return true;
      }
      int mask = 0xff << (8 - remainingBits) & 0xff;
      return (bytes[fullBytes] & mask) == (address[fullBytes] & mask);
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
