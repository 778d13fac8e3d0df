package dev.lattice.identity.entry;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A workload selector of a registration entry, SPIRE style {@code type:value}: {@code unix:uid:1000},
 * {@code unix:gid:50}, {@code k8s:ns:default}, {@code k8s:sa:web}, {@code k8s:pod-label:app=web},
 * {@code k8s:pod-name:web-0}. {@link #parse} checks the syntax of each known kind. Immutable.
 */
public record EntrySelector(String type, String value) {

  private static final Pattern NUMBER = Pattern.compile("[0-9]{1,10}");
  // RFC 1123 label (namespaces, service accounts and pod names are DNS subdomains/labels in Kubernetes)
  private static final Pattern K8S_NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  private static final Pattern LABEL_KEY = Pattern.compile("([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
  private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?");

  /** Parses and checks {@code type:kind:argument}. */
  public static EntrySelector parse(String text) {
    int colon = text == null ? -1 : text.indexOf(':');
    if (colon <= 0) {
      throw new EntryValidationException("selector: '" + text
          + "' (expected: type:value such as unix:uid:1000, unix:gid:50, k8s:ns:default, k8s:sa:web, k8s:pod-label:app=web)");
    }
    return of(text.substring(0, colon), text.substring(colon + 1));
  }

  /** Checks a type and value pair. */
  public static EntrySelector of(String type, String value) {
    String t = type == null ? "" : type.toLowerCase(Locale.ROOT);
    String v = value == null ? "" : value;
    String full = t + ":" + v;
    int colon = v.indexOf(':');
    String kind = colon < 0 ? v : v.substring(0, colon);
    String arg = colon < 0 ? "" : v.substring(colon + 1);
    switch (t) {
      case "unix" -> {
        if (!(kind.equals("uid") || kind.equals("gid"))) {
          throw new EntryValidationException("selector: '" + full + "' (expected: unix:uid:<number> or unix:gid:<number>)");
        }
        if (!NUMBER.matcher(arg).matches()) {
          throw new EntryValidationException("selector: '" + full + "': '" + arg + "' is not a number (expected: unix:"
              + kind + ":<number>)");
        }
      }
      case "k8s" -> {
        switch (kind) {
          case "ns", "sa", "pod-name" -> {
            if (!K8S_NAME.matcher(arg).matches()) {
              throw new EntryValidationException("selector: '" + full + "': '" + arg
                  + "' is not a Kubernetes name (expected: lowercase letters, digits, '-', '.')");
            }
          }
          case "pod-label" -> {
            int eq = arg.indexOf('=');
            if (eq <= 0 || !LABEL_KEY.matcher(arg.substring(0, eq)).matches()
                || !LABEL_VALUE.matcher(arg.substring(eq + 1)).matches()) {
              throw new EntryValidationException("selector: '" + full + "' (expected: k8s:pod-label:<key>=<value> with a valid label key and value)");
            }
          }
          default -> throw new EntryValidationException("selector: '" + full
              + "' (expected: k8s:ns:<namespace>, k8s:sa:<service-account>, k8s:pod-name:<name> or k8s:pod-label:<key>=<value>)");
        }
      }
      default -> throw new EntryValidationException("selector: '" + full + "': unknown type '" + t + "' (expected: unix or k8s)");
    }
    return new EntrySelector(t, v);
  }

  @Override
  public String toString() {
    return type + ":" + value;
  }
}
