package dev.lattice.policy.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Collects the issues of one validation run and holds the checks shared by every kind (durations,
 * ports, regexes, string matches, names). Not thread-safe: one per run.
 */
final class Issues {
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern DNS_SUBDOMAIN = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern HOST = Pattern.compile("(\\*|\\*\\.)?[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*");
  private static final Pattern HEADER_NAME = Pattern.compile("[a-z0-9!#$%&'*+.^_`|~-]+|:authority|:path|:method|:scheme");
  private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?");
  /** What RE2 refuses or reads differently from java.util.regex (the data plane's PathRegexRewrite refuses the same). */
  private static final Pattern RE2_UNSUPPORTED = Pattern.compile("\\(\\?[=!>]|\\(\\?<[=!]|\\\\[1-9]|\\\\k<|\\\\[GZ]|[*+?}][+]|&&");

  final List<ValidationIssue> list = new ArrayList<>();
  final ValidationContext context;

  Issues(ValidationContext context) {
    this.context = context;
  }

  void error(String path, String message) {
    list.add(ValidationIssue.error(path, message));
  }

  void warn(String path, String message) {
    list.add(ValidationIssue.warning(path, message));
  }

  boolean registryAvailable() {
    return context.registry().available();
  }

  static String quote(Object v) {
    return v instanceof String s ? "\"" + s + "\"" : String.valueOf(v);
  }

  void required(String path, Object value, String expected) {
    if (value == null || (value instanceof String s && s.isBlank())) error(path, "missing (expected: " + expected + ")");
  }

  void dnsLabel(String path, String value, String what) {
    if (value == null) return;
    if (value.length() > 63 || !DNS_LABEL.matcher(value).matches()) {
      error(path, quote(value) + " (expected: " + what
          + " of at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)");
    }
  }

  void dnsSubdomain(String path, String value, String what) {
    if (value == null) return;
    if (value.length() > 253 || !DNS_SUBDOMAIN.matcher(value).matches()) {
      error(path, quote(value) + " (expected: " + what
          + " of lower-case letters, digits, '-' and '.', at most 253 characters)");
    }
  }

  void host(String path, String value) {
    if (value == null || value.isEmpty()) {
      error(path, "empty host (expected: a service host such as reviews, reviews.default or *.example.com)");
    } else if (value.length() > 253 || !HOST.matcher(value).matches()) {
      error(path, quote(value) + " (expected: a service host such as reviews, reviews.default or *.example.com)");
    }
  }

  void port(String path, Integer port) {
    if (port != null && (port < 1 || port > 65535)) error(path, port + " (expected: a port 1..65535)");
  }

  void portText(String path, String port) {
    if (port == null || port.isEmpty() || port.length() > 5 || !port.chars().allMatch(Character::isDigit)) {
      error(path, quote(port) + " (expected: a port number 1..65535 as a decimal string)");
      return;
    }
    int p = Integer.parseInt(port);
    if (p < 1 || p > 65535) error(path, quote(port) + " (expected: a port 1..65535)");
  }

  void percent(String path, Percent p) {
    if (p == null) return;
    if (p.value() == null) {
      error(FieldPath.field(path, "value"), "missing (expected: a percentage 0.0..100.0)");
    } else if (p.value() < 0 || p.value() > 100 || p.value().isNaN()) {
      error(FieldPath.field(path, "value"), p.value() + " (expected: a percentage 0.0..100.0)");
    }
  }

  void range(String path, Number value, long min, long max) {
    if (value != null && (value.longValue() < min || value.longValue() > max)) {
      error(path, value + " (expected: " + min + ".." + max + ")");
    }
  }

  void atLeast(String path, Number value, long min) {
    if (value != null && value.longValue() < min) error(path, value + " (expected: at least " + min + ")");
  }

  /** A duration ≥ 1ms, as Istio requires. */
  void duration(String path, String value) {
    if (value == null) return;
    if (!DurationText.isValid(value)) {
      error(path, quote(value) + " (expected: a duration such as 1.5s, 100ms, 1m30s)");
    } else if (DurationText.parse(value).toNanos() < 1_000_000) {
      error(path, quote(value) + " (expected: a duration of at least 1ms)");
    }
  }

  void regex(String path, String regex) {
    if (regex == null) return;
    if (RE2_UNSUPPORTED.matcher(regex).find()) {
      error(path, quote(regex) + ": look-arounds, back-references, atomic groups, possessive quantifiers, \\G, \\Z and && are not RE2 syntax (expected: an RE2 regular expression)");
      return;
    }
    try {
      Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      error(path, quote(regex) + ": " + e.getDescription() + " at index " + e.getIndex() + " (expected: an RE2 regular expression)");
    }
  }

  /** Exactly one of exact/prefix/regex, or none when {@code presenceAllowed}. */
  void stringMatch(String path, StringMatch m, boolean presenceAllowed, boolean prefixAllowed) {
    if (m == null) return;
    int set = m.setCount();
    if (set > 1) {
      error(path, "sets " + set + " of exact, prefix, regex (expected: exactly one)");
    } else if (set == 0 && !presenceAllowed) {
      error(path, "empty match (expected: one of exact, prefix, regex)");
    }
    if (m.prefix() != null && !prefixAllowed) {
      error(FieldPath.field(path, "prefix"), "prefix match is not supported here (expected: exact or regex)");
    }
    regex(FieldPath.field(path, "regex"), m.regex());
  }

  void headerName(String path, String name) {
    if (name == null || name.isEmpty()) {
      error(path, "empty header name");
    } else if (!name.equals(name.toLowerCase(Locale.ROOT))) {
      error(path, quote(name) + ": header names must be lower case (expected: " + quote(name.toLowerCase(Locale.ROOT)) + ")");
    } else if (!HEADER_NAME.matcher(name).matches()) {
      error(path, quote(name) + " (expected: an HTTP header name token)");
    }
  }

  void labels(String path, Map<String, String> labels) {
    labels.forEach((k, v) -> {
      String p = FieldPath.key(path, k);
      if (k == null || k.isEmpty() || k.length() > 317) error(p, "label key " + quote(k) + " (expected: a non-empty label key)");
      if (v == null) {
        error(p, "missing value (expected: a label value, may be \"\")");
      } else if (v.length() > 63 || !LABEL_VALUE.matcher(v).matches()) {
        error(p, quote(v) + " (expected: a label value of at most 63 letters, digits, '-', '_', '.')");
      }
    });
  }

  void namespaceRef(String path, String ns) {
    dnsLabel(path, ns, "a namespace");
  }

  void exportTo(String path, java.util.List<String> exportTo) {
    for (int i = 0; i < exportTo.size(); i++) {
      String v = exportTo.get(i);
      if ("*".equals(v) || ".".equals(v)) continue;
      dnsLabel(FieldPath.index(path, i), v, "'*', '.' or a namespace");
    }
  }

  void noNulls(String path, java.util.List<?> items, String what) {
    for (int i = 0; i < items.size(); i++) {
      if (items.get(i) == null) error(FieldPath.index(path, i), "empty entry (expected: " + what + ")");
    }
  }

  void principal(String path, String principal) {
    SpiffePrincipal.problem(principal).ifPresent(p -> error(path, "invalid principal " + p));
    if (principal != null && registryAvailable()) {
      SpiffePrincipal.namespaceOf(principal).ifPresent(ns -> {
        if (!context.registry().hasWorkloadsInNamespace(ns)) {
          warn(path, "principal " + quote(principal) + " is in namespace " + quote(ns) + ", which has no workloads");
        }
      });
    }
  }

  static final Set<String> HTTP_METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH");

  void method(String path, String method) {
    if (method == null || method.isEmpty()) {
      error(path, "empty method (expected: an HTTP method such as GET)");
    } else if (!method.equals(method.toUpperCase(Locale.ROOT))) {
      // Valid, as in Istio: methods compare case-sensitively, so this matches only that exact spelling.
      warn(path, quote(method) + " matches only requests whose method is exactly " + quote(method)
          + " (methods are case-sensitive; did you mean " + quote(method.toUpperCase(Locale.ROOT)) + "?)");
    } else if (!HTTP_METHODS.contains(method)) {
      warn(path, quote(method) + " is not a standard HTTP method");
    }
  }
}
