package dev.lattice.authz;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * An {@link AuthzRequest} held as plain values: what {@code explain} and tests build. Header names are
 * lower-cased; the remote address is computed at build time from {@code X-Forwarded-For} and the
 * trusted-proxy count. Immutable and thread-safe; {@link Builder} is not.
 */
public final class SimpleRequest implements AuthzRequest {
  private final boolean http;
  private final PeerIdentity peer;
  private final byte[] sourceAddress;
  private final byte[] remoteAddress;
  private final byte[] destinationAddress;
  private final int destinationPort;
  private final String sni;
  private final String method;
  private final String authority;
  private final String path;
  private final Map<String, String> headers;
  private final RequestAuth auth;

  private SimpleRequest(Builder b) {
    this.http = b.method != null;
    this.peer = b.peer;
    this.sourceAddress = b.sourceAddress;
    this.destinationAddress = b.destinationAddress;
    this.destinationPort = b.destinationPort;
    this.sni = b.sni;
    this.method = b.method;
    this.authority = http ? b.authority : null;
    this.path = http ? b.path : null;
    this.headers = Map.copyOf(b.headers);
    this.auth = http ? b.auth : null;
    this.remoteAddress = ClientAddress.remote(b.sourceAddress, headers.get("x-forwarded-for"), b.trustedProxies);
  }

  /** A builder; without {@link Builder#method} the request is a TCP connection. */
  public static Builder builder() {
    return new Builder();
  }

  @Override public boolean http() { return http; }
  @Override public PeerIdentity peer() { return peer; }
  @Override public byte[] sourceAddress() { return sourceAddress; }
  @Override public byte[] remoteAddress() { return remoteAddress; }
  @Override public byte[] destinationAddress() { return destinationAddress; }
  @Override public int destinationPort() { return destinationPort; }
  @Override public String sni() { return sni; }
  @Override public String method() { return method; }
  @Override public String authority() { return authority; }
  @Override public String path() { return path; }
  @Override public String header(String lowerCaseName) { return headers.get(lowerCaseName); }
  @Override public RequestAuth auth() { return auth; }

  /** The headers, lower-case names. */
  public Map<String, String> headers() {
    return headers;
  }

  @Override
  public String toString() {
    return (http ? method + " " + authority + path : "TCP") + " from " + (peer == null ? "plaintext" : peer.spiffeId())
        + " to port " + destinationPort;
  }

  /** Builds a {@link SimpleRequest}. Not thread-safe. */
  public static final class Builder {
    private PeerIdentity peer;
    private byte[] sourceAddress;
    private byte[] destinationAddress;
    private int destinationPort;
    private String sni;
    private String method;
    private String authority;
    private String path;
    private final Map<String, String> headers = new TreeMap<>();
    private RequestAuth auth;
    private int trustedProxies;

    private Builder() {}

    /** The mTLS peer's SPIFFE ID (scheme optional); null = plaintext. */
    public Builder from(String spiffeId) {
      this.peer = spiffeId == null || spiffeId.isEmpty() ? null : PeerIdentity.of(spiffeId);
      return this;
    }

    public Builder peer(PeerIdentity peer) {
      this.peer = peer;
      return this;
    }

    /** The peer's address literal, e.g. {@code 10.0.0.7}. */
    public Builder sourceIp(String ip) {
      this.sourceAddress = ip == null ? null : literal(ip, "sourceIp");
      return this;
    }

    public Builder destinationIp(String ip) {
      this.destinationAddress = ip == null ? null : literal(ip, "destinationIp");
      return this;
    }

    public Builder port(int port) {
      this.destinationPort = port;
      return this;
    }

    public Builder sni(String sni) {
      this.sni = sni;
      return this;
    }

    /** The HTTP method; leave unset for a TCP connection. */
    public Builder method(String method) {
      this.method = method;
      return this;
    }

    /** {@code :authority} as sent, e.g. {@code reviews.prod:9080}. */
    public Builder authority(String authority) {
      this.authority = authority;
      return this;
    }

    /** The path, already normalized, without a query string. */
    public Builder path(String path) {
      this.path = path;
      return this;
    }

    /** Adds a header (name lower-cased; a repeated header is joined with {@code ","}). */
    public Builder header(String name, String value) {
      headers.merge(name.toLowerCase(Locale.ROOT), value, (a, b) -> a + "," + b);
      return this;
    }

    public Builder headers(Map<String, String> all) {
      all.forEach(this::header);
      return this;
    }

    public Builder auth(RequestAuth auth) {
      this.auth = auth;
      return this;
    }

    /** The mesh's trusted-proxy count, for the remote address ({@link ClientAddress}). */
    public Builder trustedProxies(int n) {
      this.trustedProxies = n;
      return this;
    }

    public SimpleRequest build() {
      return new SimpleRequest(this);
    }

    private static byte[] literal(String ip, String field) {
      byte[] b = IpBlock.literal(ip);
      if (b == null) throw new IllegalArgumentException(field + ": \"" + ip + "\" (expected: an IP address such as 10.0.0.7)");
      return b;
    }
  }
}
