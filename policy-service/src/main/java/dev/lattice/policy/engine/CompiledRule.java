package dev.lattice.policy.engine;

import dev.lattice.policy.model.AuthorizationPolicy;
import dev.lattice.policy.model.IpBlock;
import dev.lattice.policy.model.SpiffePrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One AuthorizationPolicy rule compiled into arrays of matchers: any {@code from} AND any {@code to} AND
 * every {@code when}. Immutable and thread-safe; evaluation does not allocate.
 *
 * <p>TCP (Istio semantics): a rule that uses HTTP-only fields (hosts, methods, paths, request headers)
 * never matches a TCP connection when it belongs to an ALLOW or AUDIT policy; in a DENY policy those
 * fields are ignored, which makes the deny broader.
 */
final class CompiledRule {
  private static final Pattern HEADER_KEY = Pattern.compile("request\\.headers\\[([^\\]]+)\\]");
  private static final ValuePattern[] NONE = new ValuePattern[0];

  private final Source[] froms;
  private final Operation[] tos;
  private final Condition[] whens;
  final boolean httpOnly;

  private CompiledRule(Source[] froms, Operation[] tos, Condition[] whens) {
    this.froms = froms;
    this.tos = tos;
    this.whens = whens;
    boolean http = false;
    for (Operation o : tos) http |= o.httpOnly;
    for (Condition c : whens) http |= c.httpOnly;
    this.httpOnly = http;
  }

  static CompiledRule of(AuthorizationPolicy.Rule rule) {
    List<Source> froms = new ArrayList<>();
    for (AuthorizationPolicy.From f : rule.from()) {
      if (f != null && f.source() != null) froms.add(new Source(f.source()));
    }
    List<Operation> tos = new ArrayList<>();
    for (AuthorizationPolicy.To t : rule.to()) {
      if (t != null && t.operation() != null) tos.add(new Operation(t.operation()));
    }
    List<Condition> whens = new ArrayList<>();
    for (AuthorizationPolicy.Condition c : rule.when()) {
      if (c != null && c.key() != null) whens.add(Condition.of(c));
    }
    return new CompiledRule(froms.toArray(new Source[0]), tos.toArray(new Operation[0]), whens.toArray(new Condition[0]));
  }

  /**
   * @param ignoreHttpFields true for a TCP connection evaluated by a DENY policy
   */
  boolean matches(RequestContext r, boolean ignoreHttpFields) {
    if (froms.length > 0) {
      boolean any = false;
      for (Source s : froms) {
        if (s.matches(r)) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    if (tos.length > 0) {
      boolean any = false;
      for (Operation o : tos) {
        if (o.matches(r, ignoreHttpFields)) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    for (Condition c : whens) {
      if (!(ignoreHttpFields && c.httpOnly) && !c.matches(r)) return false;
    }
    return true;
  }

  private static ValuePattern[] patterns(List<String> values, boolean principal, boolean ignoreCase) {
    if (values.isEmpty()) return NONE;
    ValuePattern[] out = new ValuePattern[values.size()];
    for (int i = 0; i < out.length; i++) {
      String v = values.get(i) == null ? "" : values.get(i);
      out[i] = ValuePattern.of(principal ? SpiffePrincipal.normalize(v) : v, ignoreCase);
    }
    return out;
  }

  private static IpBlock[] blocks(List<String> values) {
    List<IpBlock> out = new ArrayList<>();
    for (String v : values) {
      try {
        out.add(IpBlock.parse(v));
      } catch (IllegalArgumentException e) {
        // Validation rejects such values; an engine fed an unvalidated policy treats them as matching nothing.
      }
    }
    return out.toArray(new IpBlock[0]);
  }

  private static int[] ports(List<String> values) {
    int[] out = new int[values.size()];
    for (int i = 0; i < out.length; i++) {
      try {
        out[i] = Integer.parseInt(values.get(i).trim());
      } catch (RuntimeException e) {
        out[i] = -1;
      }
    }
    return out;
  }

  static int principalOffset(String principal) {
    return principal != null && principal.startsWith(SpiffePrincipal.SCHEME) ? SpiffePrincipal.SCHEME.length() : 0;
  }

  private static boolean contains(int[] ports, int port) {
    for (int p : ports) {
      if (p == port) return true;
    }
    return false;
  }

  private static boolean inAny(IpBlock[] blocks, byte[] address) {
    for (IpBlock b : blocks) {
      if (b.contains(address)) return true;
    }
    return false;
  }

  /** Peer conditions: fields ANDed, values ORed, notX negated. */
  private static final class Source {
    final ValuePattern[] principals;
    final ValuePattern[] notPrincipals;
    final ValuePattern[] namespaces;
    final ValuePattern[] notNamespaces;
    final IpBlock[] ipBlocks;
    final IpBlock[] notIpBlocks;

    Source(AuthorizationPolicy.Source s) {
      principals = patterns(s.principals(), true, false);
      notPrincipals = patterns(s.notPrincipals(), true, false);
      namespaces = patterns(s.namespaces(), false, false);
      notNamespaces = patterns(s.notNamespaces(), false, false);
      ipBlocks = blocks(s.ipBlocks());
      notIpBlocks = blocks(s.notIpBlocks());
    }

    boolean matches(RequestContext r) {
      String p = r.sourcePrincipal();
      int off = principalOffset(p);
      if (principals.length > 0 && !ValuePattern.any(principals, p, off)) return false;
      if (notPrincipals.length > 0 && ValuePattern.any(notPrincipals, p, off)) return false;
      if (namespaces.length > 0 && !ValuePattern.any(namespaces, r.sourceNamespace(), 0)) return false;
      if (notNamespaces.length > 0 && ValuePattern.any(notNamespaces, r.sourceNamespace(), 0)) return false;
      if (ipBlocks.length > 0 && !inAny(ipBlocks, r.sourceAddress())) return false;
      return notIpBlocks.length == 0 || !inAny(notIpBlocks, r.sourceAddress());
    }
  }

  /** Request conditions: fields ANDed, values ORed, notX negated. Hosts compare case-insensitively. */
  private static final class Operation {
    final ValuePattern[] hosts;
    final ValuePattern[] notHosts;
    final int[] ports;
    final int[] notPorts;
    final ValuePattern[] methods;
    final ValuePattern[] notMethods;
    final ValuePattern[] paths;
    final ValuePattern[] notPaths;
    final boolean httpOnly;

    Operation(AuthorizationPolicy.Operation o) {
      hosts = patterns(o.hosts(), false, true);
      notHosts = patterns(o.notHosts(), false, true);
      ports = ports(o.ports());
      notPorts = ports(o.notPorts());
      methods = patterns(o.methods(), false, false);
      notMethods = patterns(o.notMethods(), false, false);
      paths = patterns(o.paths(), false, false);
      notPaths = patterns(o.notPaths(), false, false);
      httpOnly = hosts.length + notHosts.length + methods.length + notMethods.length + paths.length + notPaths.length > 0;
    }

    boolean matches(RequestContext r, boolean ignoreHttpFields) {
      if (ports.length > 0 && !contains(ports, r.destinationPort())) return false;
      if (notPorts.length > 0 && contains(notPorts, r.destinationPort())) return false;
      if (ignoreHttpFields) return true;
      if (hosts.length > 0 && !hostMatches(hosts, r.destinationHost())) return false;
      if (notHosts.length > 0 && hostMatches(notHosts, r.destinationHost())) return false;
      if (methods.length > 0 && !ValuePattern.any(methods, r.method(), 0)) return false;
      if (notMethods.length > 0 && ValuePattern.any(notMethods, r.method(), 0)) return false;
      if (paths.length > 0 && !ValuePattern.any(paths, r.path(), 0)) return false;
      return notPaths.length == 0 || !ValuePattern.any(notPaths, r.path(), 0);
    }

    /** Matches the Host value as sent, and without its {@code :port}. */
    private static boolean hostMatches(ValuePattern[] hosts, String host) {
      if (host == null) return false;
      if (ValuePattern.any(hosts, host, 0)) return true;
      int colon = host.lastIndexOf(':');
      if (colon <= 0 || host.indexOf(']') > colon) return false;
      for (ValuePattern p : hosts) {
        if (matchesWithoutPort(p, host, colon)) return true;
      }
      return false;
    }

    private static boolean matchesWithoutPort(ValuePattern p, String host, int end) {
      int len = end;
      return switch (p.kind) {
        case ANY -> len > 0;
        case EXACT -> len == p.text.length() && host.regionMatches(true, 0, p.text, 0, len);
        case PREFIX -> len >= p.text.length() && host.regionMatches(true, 0, p.text, 0, p.text.length());
        case SUFFIX -> len >= p.text.length() && host.regionMatches(true, end - p.text.length(), p.text, 0, p.text.length());
      };
    }
  }

  /** A {@code when} condition on one attribute. */
  private static final class Condition {
    enum Attribute { HEADER, PRINCIPAL, NAMESPACE, IP, PORT, UNSUPPORTED }

    final Attribute attribute;
    final String header;
    final ValuePattern[] values;
    final ValuePattern[] notValues;
    final IpBlock[] blocks;
    final IpBlock[] notBlocks;
    final int[] ports;
    final int[] notPorts;
    final boolean httpOnly;

    private Condition(Attribute attribute, String header, AuthorizationPolicy.Condition c) {
      this.attribute = attribute;
      this.header = header;
      boolean principal = attribute == Attribute.PRINCIPAL;
      this.values = patterns(c.values(), principal, false);
      this.notValues = patterns(c.notValues(), principal, false);
      this.blocks = attribute == Attribute.IP ? blocks(c.values()) : new IpBlock[0];
      this.notBlocks = attribute == Attribute.IP ? blocks(c.notValues()) : new IpBlock[0];
      this.ports = attribute == Attribute.PORT ? ports(c.values()) : new int[0];
      this.notPorts = attribute == Attribute.PORT ? ports(c.notValues()) : new int[0];
      this.httpOnly = attribute == Attribute.HEADER;
    }

    static Condition of(AuthorizationPolicy.Condition c) {
      Matcher m = HEADER_KEY.matcher(c.key());
      if (m.matches()) return new Condition(Attribute.HEADER, m.group(1).toLowerCase(Locale.ROOT), c);
      Attribute a = switch (c.key()) {
        case "source.principal" -> Attribute.PRINCIPAL;
        case "source.namespace" -> Attribute.NAMESPACE;
        case "source.ip" -> Attribute.IP;
        case "destination.port" -> Attribute.PORT;
        default -> Attribute.UNSUPPORTED;
      };
      return new Condition(a, null, c);
    }

    boolean matches(RequestContext r) {
      switch (attribute) {
        case HEADER: {
          String v = r.header(header);
          if (values.length > 0 && !ValuePattern.any(values, v, 0)) return false;
          return notValues.length == 0 || !ValuePattern.any(notValues, v, 0);
        }
        case PRINCIPAL: {
          String p = r.sourcePrincipal();
          int off = principalOffset(p);
          if (values.length > 0 && !ValuePattern.any(values, p, off)) return false;
          return notValues.length == 0 || !ValuePattern.any(notValues, p, off);
        }
        case NAMESPACE: {
          if (values.length > 0 && !ValuePattern.any(values, r.sourceNamespace(), 0)) return false;
          return notValues.length == 0 || !ValuePattern.any(notValues, r.sourceNamespace(), 0);
        }
        case IP: {
          if (blocks.length > 0 || values.length > 0) {
            if (!inAny(blocks, r.sourceAddress())) return false;
          }
          return notBlocks.length == 0 || !inAny(notBlocks, r.sourceAddress());
        }
        case PORT: {
          if (ports.length > 0 && !contains(ports, r.destinationPort())) return false;
          return notPorts.length == 0 || !contains(notPorts, r.destinationPort());
        }
        default:
          // Validation rejects unsupported keys; fail closed for an unvalidated policy.
          return false;
      }
    }
  }
}
