package dev.lattice.authz;

import dev.lattice.events.policy.AuthorizationRule;
import dev.lattice.events.policy.Condition;
import dev.lattice.events.policy.Operation;
import dev.lattice.events.policy.RuleFrom;
import dev.lattice.events.policy.RuleTo;
import dev.lattice.events.policy.Source;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * One AuthorizationPolicy rule compiled for one action and one protocol: any {@code from} AND any
 * {@code to} AND every {@code when} (absent lists match everything; within a field values OR, fields AND,
 * {@code notX} negates). Immutable and thread-safe; matching does not allocate.
 *
 * <p>TCP (Istio): a rule of an ALLOW or AUDIT policy that uses an HTTP-only field (hosts, methods, paths,
 * request principals, request headers, request.auth conditions) never matches a TCP connection; in a DENY
 * policy those fields are dropped, which makes the deny broader. Plaintext: without an mTLS peer the
 * principal, namespace and service account are absent, so positive matches fail and negations succeed.
 * Fail closed: a condition the engine cannot evaluate makes an ALLOW/AUDIT rule match nothing and a DENY
 * rule match everything.
 */
final class CompiledRule {
  private static final StringPattern[] NO_PATTERNS = new StringPattern[0];
  private static final IpBlock[] NO_BLOCKS = new IpBlock[0];
  private static final int[] NO_PORTS = new int[0];

  /** The rule can never match (an ALLOW/AUDIT rule using HTTP-only fields on TCP, or failing closed). */
  final boolean never;
  private final SourceMatcher[] froms;
  private final OperationMatcher[] tos;
  private final ConditionMatcher[] whens;
  /** Index hints: what the request must have for this rule to match (see {@link RuleIndex}). */
  final IndexHint hint;

  private CompiledRule(boolean never, SourceMatcher[] froms, OperationMatcher[] tos, ConditionMatcher[] whens) {
    this.never = never;
    this.froms = froms;
    this.tos = tos;
    this.whens = whens;
    this.hint = IndexHint.choose(requiredPatterns(froms, s -> s.principals), requiredPatterns(froms, s -> s.namespaces),
        requiredPatterns(tos, o -> o.paths), requiredPorts(tos));
  }

  /**
   * Compiles {@code rule}.
   *
   * @param deny whether it belongs to a DENY policy (HTTP-only fields dropped on TCP; unsupported conditions match)
   * @param tcp whether it is compiled for TCP connections
   */
  static CompiledRule of(AuthorizationRule rule, boolean deny, boolean tcp) {
    boolean httpOnly = usesHttpOnlyFields(rule);
    if (tcp && httpOnly && !deny) return new CompiledRule(true, new SourceMatcher[0], new OperationMatcher[0], new ConditionMatcher[0]);
    boolean dropHttp = tcp && deny;
    List<SourceMatcher> froms = new ArrayList<>();
    for (RuleFrom f : rule.getFrom()) {
      if (f != null && f.getSource() != null) froms.add(new SourceMatcher(f.getSource(), dropHttp));
    }
    List<OperationMatcher> tos = new ArrayList<>();
    for (RuleTo t : rule.getTo()) {
      if (t != null && t.getOperation() != null) tos.add(new OperationMatcher(t.getOperation(), dropHttp));
    }
    List<ConditionMatcher> whens = new ArrayList<>();
    boolean never = false;
    for (Condition c : rule.getWhen()) {
      if (c == null) continue;
      ConditionKey key = ConditionKey.parse(c.getKey());
      if (dropHttp && key.attribute().httpOnly()) continue;
      if (key.attribute() == ConditionKey.Attribute.UNSUPPORTED) {
        if (deny) continue; // fail closed: the condition holds, so the deny is broader
        never = true; // fail closed: an ALLOW/AUDIT rule with a condition nobody can check matches nothing
        continue;
      }
      whens.add(new ConditionMatcher(key, c));
    }
    return new CompiledRule(never, froms.toArray(new SourceMatcher[0]), tos.toArray(new OperationMatcher[0]),
        whens.toArray(new ConditionMatcher[0]));
  }

  /** Whether the rule names any field Istio evaluates on HTTP only. */
  static boolean usesHttpOnlyFields(AuthorizationRule rule) {
    for (RuleFrom f : rule.getFrom()) {
      Source s = f == null ? null : f.getSource();
      if (s != null && (!s.getRequestPrincipals().isEmpty() || !s.getNotRequestPrincipals().isEmpty())) return true;
    }
    for (RuleTo t : rule.getTo()) {
      Operation o = t == null ? null : t.getOperation();
      if (o != null && (!o.getHosts().isEmpty() || !o.getNotHosts().isEmpty() || !o.getMethods().isEmpty()
          || !o.getNotMethods().isEmpty() || !o.getPaths().isEmpty() || !o.getNotPaths().isEmpty())) {
        return true;
      }
    }
    for (Condition c : rule.getWhen()) {
      if (c != null && ConditionKey.parse(c.getKey()).attribute().httpOnly()) return true;
    }
    return false;
  }

  boolean matches(AuthzRequest r) {
    if (never) return false;
    if (froms.length > 0) {
      boolean any = false;
      for (SourceMatcher s : froms) {
        if (s.matches(r)) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    if (tos.length > 0) {
      boolean any = false;
      for (OperationMatcher o : tos) {
        if (o.matches(r)) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    for (ConditionMatcher c : whens) {
      if (!c.matches(r)) return false;
    }
    return true;
  }

  // ---- index hints ----

  /**
   * The patterns one of which the request's value must match for the rule to match — every source (or
   * operation) names at least one — else null. Used only for patterns {@link IndexHint} can key on.
   */
  private static <M> List<StringPattern> requiredPatterns(M[] matchers, Function<M, StringPattern[]> field) {
    if (matchers.length == 0) return null;
    List<StringPattern> out = new ArrayList<>();
    for (M m : matchers) {
      StringPattern[] ps = field.apply(m);
      if (ps.length == 0) return null;
      for (StringPattern p : ps) out.add(p);
    }
    return List.copyOf(out);
  }

  /** Ports one of which the connection must have (every to names ports), else null. */
  private static int[] requiredPorts(OperationMatcher[] tos) {
    if (tos.length == 0) return null;
    List<Integer> out = new ArrayList<>();
    for (OperationMatcher o : tos) {
      if (o.ports.length == 0) return null;
      for (int p : o.ports) out.add(p);
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  // ---- matchers ----

  private static StringPattern[] patterns(List<String> values, boolean ignoreCase) {
    if (values.isEmpty()) return NO_PATTERNS;
    StringPattern[] out = new StringPattern[values.size()];
    for (int i = 0; i < out.length; i++) out[i] = StringPattern.of(values.get(i) == null ? "" : values.get(i), ignoreCase);
    return out;
  }

  /** Principal values (scheme optional), matched against the peer's full SPIFFE ID. */
  private static StringPattern[] principalPatterns(List<String> values) {
    if (values.isEmpty()) return NO_PATTERNS;
    StringPattern[] out = new StringPattern[values.size()];
    for (int i = 0; i < out.length; i++) out[i] = StringPattern.principal(values.get(i) == null ? "" : values.get(i));
    return out;
  }

  private static StringPattern[] pathPatterns(List<String> values) {
    if (values.isEmpty()) return NO_PATTERNS;
    List<StringPattern> out = new ArrayList<>(values.size());
    for (String v : values) {
      try {
        out.add(StringPattern.path(v == null ? "" : v));
      } catch (IllegalArgumentException e) {
        out.add(StringPattern.NEVER); // an invalid template matches nothing (validation rejects it)
      }
    }
    return out.toArray(NO_PATTERNS);
  }

  private static IpBlock[] blocks(List<String> values) {
    if (values.isEmpty()) return NO_BLOCKS;
    List<IpBlock> out = new ArrayList<>();
    for (String v : values) {
      try {
        out.add(IpBlock.parse(v));
      } catch (IllegalArgumentException e) {
        out.add(IpBlock.NONE); // an unparsable block matches nothing (validation rejects it)
      }
    }
    return out.toArray(NO_BLOCKS);
  }

  private static int[] ports(List<String> values) {
    if (values.isEmpty()) return NO_PORTS;
    int[] out = new int[values.size()];
    for (int i = 0; i < out.length; i++) {
      try {
        out[i] = Integer.parseInt(values.get(i).trim());
      } catch (RuntimeException e) {
        out[i] = -1; // matches no port
      }
    }
    return out;
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

  /** Positive list (absent = any) and negative list (absent = none) over one value. */
  private static boolean check(StringPattern[] yes, StringPattern[] no, String value) {
    if (yes.length > 0 && !StringPattern.any(yes, value)) return false;
    return no.length == 0 || !StringPattern.any(no, value);
  }

  private static boolean checkIp(IpBlock[] yes, IpBlock[] no, byte[] address) {
    if (yes.length > 0 && !inAny(yes, address)) return false;
    return no.length == 0 || !inAny(no, address);
  }

  private static boolean checkPort(int[] yes, int[] no, int port) {
    if (yes.length > 0 && !contains(yes, port)) return false;
    return no.length == 0 || !contains(no, port);
  }

  /** Istio's Source. */
  private static final class SourceMatcher {
    final StringPattern[] principals;
    final StringPattern[] notPrincipals;
    final StringPattern[] requestPrincipals;
    final StringPattern[] notRequestPrincipals;
    final StringPattern[] namespaces;
    final StringPattern[] notNamespaces;
    final String[] serviceAccounts;
    final String[] notServiceAccounts;
    final IpBlock[] ipBlocks;
    final IpBlock[] notIpBlocks;
    final IpBlock[] remoteIpBlocks;
    final IpBlock[] notRemoteIpBlocks;

    SourceMatcher(Source s, boolean dropHttp) {
      principals = principalPatterns(s.getPrincipals());
      notPrincipals = principalPatterns(s.getNotPrincipals());
      requestPrincipals = dropHttp ? NO_PATTERNS : patterns(s.getRequestPrincipals(), false);
      notRequestPrincipals = dropHttp ? NO_PATTERNS : patterns(s.getNotRequestPrincipals(), false);
      namespaces = patterns(s.getNamespaces(), false);
      notNamespaces = patterns(s.getNotNamespaces(), false);
      serviceAccounts = s.getServiceAccounts().toArray(new String[0]);
      notServiceAccounts = s.getNotServiceAccounts().toArray(new String[0]);
      for (String[] list : new String[][] {serviceAccounts, notServiceAccounts}) {
        for (int i = 0; i < list.length; i++) if (list[i] == null) list[i] = "";
      }
      ipBlocks = blocks(s.getIpBlocks());
      notIpBlocks = blocks(s.getNotIpBlocks());
      remoteIpBlocks = blocks(s.getRemoteIpBlocks());
      notRemoteIpBlocks = blocks(s.getNotRemoteIpBlocks());
    }

    boolean matches(AuthzRequest r) {
      PeerIdentity peer = r.peer();
      String principal = peer == null ? null : peer.spiffeId();
      if (!check(principals, notPrincipals, principal)) return false;
      if (!check(namespaces, notNamespaces, peer == null ? null : peer.namespace())) return false;
      if (serviceAccounts.length > 0 || notServiceAccounts.length > 0) {
        if (serviceAccounts.length > 0 && !exactAny(serviceAccounts, peer)) return false;
        if (notServiceAccounts.length > 0 && exactAny(notServiceAccounts, peer)) return false;
      }
      if (requestPrincipals.length > 0 || notRequestPrincipals.length > 0) {
        RequestAuth auth = r.auth();
        if (!check(requestPrincipals, notRequestPrincipals, auth == null ? null : auth.principal())) return false;
      }
      if (!checkIp(ipBlocks, notIpBlocks, r.sourceAddress())) return false;
      if (remoteIpBlocks.length > 0 || notRemoteIpBlocks.length > 0) {
        return checkIp(remoteIpBlocks, notRemoteIpBlocks, r.remoteAddress());
      }
      return true;
    }

    /** Whether one {@code <namespace>/<name>} value is the peer's, compared in place (nothing built per request). */
    private static boolean exactAny(String[] values, PeerIdentity peer) {
      if (peer == null || peer.namespace() == null || peer.serviceAccount() == null) return false;
      String ns = peer.namespace();
      String sa = peer.serviceAccount();
      for (String v : values) {
        if (v.length() == ns.length() + 1 + sa.length() && v.charAt(ns.length()) == '/' && v.startsWith(ns)
            && v.endsWith(sa)) {
          return true;
        }
      }
      return false;
    }
  }

  /** Istio's Operation. Hosts compare case-insensitively against the full authority; methods and paths exactly. */
  private static final class OperationMatcher {
    final StringPattern[] hosts;
    final StringPattern[] notHosts;
    final int[] ports;
    final int[] notPorts;
    final StringPattern[] methods;
    final StringPattern[] notMethods;
    final StringPattern[] paths;
    final StringPattern[] notPaths;

    OperationMatcher(Operation o, boolean dropHttp) {
      hosts = dropHttp ? NO_PATTERNS : patterns(o.getHosts(), true);
      notHosts = dropHttp ? NO_PATTERNS : patterns(o.getNotHosts(), true);
      ports = ports(o.getPorts());
      notPorts = ports(o.getNotPorts());
      methods = dropHttp ? NO_PATTERNS : patterns(o.getMethods(), false);
      notMethods = dropHttp ? NO_PATTERNS : patterns(o.getNotMethods(), false);
      paths = dropHttp ? NO_PATTERNS : pathPatterns(o.getPaths());
      notPaths = dropHttp ? NO_PATTERNS : pathPatterns(o.getNotPaths());
    }

    boolean matches(AuthzRequest r) {
      if (!checkPort(ports, notPorts, r.destinationPort())) return false;
      if (!check(hosts, notHosts, r.authority())) return false;
      if (!check(methods, notMethods, r.method())) return false;
      return check(paths, notPaths, r.path());
    }
  }

  /** One {@code when} condition. */
  private static final class ConditionMatcher {
    final ConditionKey key;
    final StringPattern[] values;
    final StringPattern[] notValues;
    final IpBlock[] blocks;
    final IpBlock[] notBlocks;
    final int[] ports;
    final int[] notPorts;

    ConditionMatcher(ConditionKey key, Condition c) {
      this.key = key;
      boolean ip = key.ipValued();
      boolean port = key.attribute() == ConditionKey.Attribute.DESTINATION_PORT;
      boolean principal = key.attribute() == ConditionKey.Attribute.SOURCE_PRINCIPAL;
      this.values = ip || port ? NO_PATTERNS : principal ? principalPatterns(c.getValues()) : patterns(c.getValues(), false);
      this.notValues = ip || port ? NO_PATTERNS : principal ? principalPatterns(c.getNotValues()) : patterns(c.getNotValues(), false);
      this.blocks = ip ? blocks(c.getValues()) : NO_BLOCKS;
      this.notBlocks = ip ? blocks(c.getNotValues()) : NO_BLOCKS;
      this.ports = port ? ports(c.getValues()) : NO_PORTS;
      this.notPorts = port ? ports(c.getNotValues()) : NO_PORTS;
    }

    boolean matches(AuthzRequest r) {
      switch (key.attribute()) {
        case REQUEST_HEADER:
          return check(values, notValues, r.header(key.argument()));
        case SOURCE_IP:
          return checkIp(blocks, notBlocks, r.sourceAddress());
        case REMOTE_IP:
          return checkIp(blocks, notBlocks, r.remoteAddress());
        case DESTINATION_IP:
          return checkIp(blocks, notBlocks, r.destinationAddress());
        case DESTINATION_PORT:
          return checkPort(ports, notPorts, r.destinationPort());
        case SOURCE_NAMESPACE:
          return check(values, notValues, r.peer() == null ? null : r.peer().namespace());
        case SOURCE_PRINCIPAL:
          return check(values, notValues, r.peer() == null ? null : r.peer().spiffeId());
        case CONNECTION_SNI:
          return check(values, notValues, r.sni());
        case REQUEST_AUTH_PRINCIPAL:
          return check(values, notValues, r.auth() == null ? null : r.auth().principal());
        case REQUEST_AUTH_PRESENTER:
          return check(values, notValues, r.auth() == null ? null : r.auth().presenter());
        case REQUEST_AUTH_AUDIENCES:
          return checkList(r.auth() == null ? List.of() : r.auth().audiences());
        case REQUEST_AUTH_CLAIMS:
          return checkList(r.auth() == null ? List.of() : r.auth().claim(key.claimPath()));
        default:
          return false;
      }
    }

    /** A multi-valued attribute: positive if any value matches, negative if none does. */
    private boolean checkList(List<String> got) {
      if (values.length > 0) {
        boolean any = false;
        for (String v : got) {
          if (StringPattern.any(values, v)) {
            any = true;
            break;
          }
        }
        if (!any) return false;
      }
      for (String v : got) {
        if (StringPattern.any(notValues, v)) return false;
      }
      return true;
    }
  }
}
