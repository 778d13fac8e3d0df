package dev.lattice.authz;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Istio's AuthorizationPolicy semantics, one row per rule of the reference, run against the engine over
 * compiled config. Columns: the Istio doc section the row encodes || what it shows || policies
 * ({@link PolicyText}, {@code ;;}-separated) || request ({@link RequestText}) || expected decision:
 * {@code VERDICT reason [ns/name#rule] [dry=VERDICT:reason[:ns/name#rule]] [audit=ns/name#rule,…]}, or
 * {@code REJECT} (400 before authorization). Each row is also checked against the linear-scan engine, so
 * the index never changes an answer.
 *
 * <p>Sections: AP = "Authorization Policy" reference (istio/api security/v1beta1/authorization_policy.proto);
 * COND = "Authorization Policy Conditions"; NORM = "Security policy normalization"; TCP = Istio's
 * authorization for TCP traffic (HTTP-only fields); BP = "Security best practices".
 */
class AuthorizationSemanticsTest {

  private static final String WEB = "from=lattice.local/ns/shop/sa/web";
  private static final String ADMIN = "from=lattice.local/ns/ops/sa/admin";

  static final String TABLE = """
      AP §evaluation: no policy || nothing applies, allowed || || GET path=/ || ALLOW no_policies
      AP §evaluation: DENY first || a matching DENY rule denies || DENY shop/d: to.paths=/admin || GET path=/admin || DENY deny_matched shop/d#0
      AP §evaluation: DENY only || no DENY match and no ALLOW policy: allowed || DENY shop/d: to.paths=/admin || GET path=/x || ALLOW no_allow_policies
      AP §evaluation: ALLOW || a matching ALLOW rule allows || ALLOW shop/a: to.paths=/x || GET path=/x || ALLOW allow_matched shop/a#0
      AP §evaluation: implicit deny || ALLOW policies apply, none matches: denied || ALLOW shop/a: to.paths=/x || GET path=/y || DENY no_allow_match
      AP §evaluation: DENY before ALLOW || both match: the DENY wins || ALLOW shop/a: {} ;; DENY shop/d: to.paths=/x || GET path=/x || DENY deny_matched shop/d#0
      AP §evaluation: ALLOW after DENY || DENY does not match, ALLOW does || ALLOW shop/a: {} ;; DENY shop/d: to.paths=/x || GET path=/y || ALLOW allow_matched shop/a#0
      AP §evaluation: any ALLOW policy || the second ALLOW policy matches || ALLOW shop/a: to.paths=/a ;; ALLOW shop/b: to.paths=/b || GET path=/b || ALLOW allow_matched shop/b#0
      AP §evaluation: deciding policy || two DENY policies match: the first by namespace then name decides || DENY zz/z: {} ;; DENY aa/b: {} ;; DENY aa/a: to.paths=/x || GET path=/x || DENY deny_matched aa/a#0
      AP §evaluation: deciding rule || the first matching rule of the policy is reported || ALLOW shop/a: to.paths=/y | to.paths=/x | {} || GET path=/x || ALLOW allow_matched shop/a#1
      AP §evaluation: root-namespace policies || a policy compiled in from the root namespace decides like any other || DENY lattice-system/global: to.paths=/debug* || GET path=/debug/pprof || DENY deny_matched lattice-system/global#0
      AP §AUDIT: never decides || only AUDIT policies: allowed, the audit reported || AUDIT shop/log: to.paths=/x || GET path=/x || ALLOW no_policies audit=shop/log#0
      AP §AUDIT: alongside ALLOW || the verdict comes from ALLOW, the audit is reported || AUDIT shop/log: {} ;; ALLOW shop/a: to.methods=GET || GET path=/x || ALLOW allow_matched shop/a#0 audit=shop/log#0
      AP §AUDIT: alongside DENY || a denied request is audited too || AUDIT shop/log: {} ;; DENY shop/d: {} || GET path=/x || DENY deny_matched shop/d#0 audit=shop/log#0
      AP §AUDIT: no match || an AUDIT policy that does not match reports nothing || AUDIT shop/log: to.paths=/secret || GET path=/x || ALLOW no_policies
      AP §AUDIT: several || every matching AUDIT policy is reported, with its first matching rule || AUDIT shop/a1: to.paths=/z | {} ;; AUDIT shop/a2: {} || GET path=/x || ALLOW no_policies audit=shop/a1#1,shop/a2#0
      AP §AUDIT: dry-run AUDIT || an AUDIT policy marked dry-run is still reported || AUDIT shop/log dry: {} || GET path=/x || ALLOW no_policies audit=shop/log#0
      AP §dry-run: DENY || a matching dry-run DENY does not deny; its outcome is shadowed || DENY shop/d dry: to.paths=/x || GET path=/x || ALLOW no_policies dry=DENY:deny_matched:shop/d#0
      AP §dry-run: DENY no match || a dry-run DENY that does not match reports nothing || DENY shop/d dry: to.paths=/x || GET path=/y || ALLOW no_policies
      AP §dry-run: ALLOW would deny || a dry-run ALLOW that does not match: enforcing it would deny || ALLOW shop/a dry: to.paths=/x || GET path=/y || ALLOW no_policies dry=DENY:no_allow_match
      AP §dry-run: ALLOW would allow || a dry-run ALLOW that matches is reported || ALLOW shop/a dry: to.paths=/x || GET path=/x || ALLOW no_policies dry=ALLOW:allow_matched:shop/a#0
      AP §dry-run: enforced deny stays || an enforced DENY makes dry-run policies moot || DENY shop/d: {} ;; DENY shop/dd dry: {} || GET path=/x || DENY deny_matched shop/d#0
      AP §dry-run: enforced allow stays || an enforced ALLOW rule comes before a dry-run ALLOW rule || ALLOW shop/a: {} ;; ALLOW shop/b dry: {} || GET path=/x || ALLOW allow_matched shop/a#0
      AP §dry-run: would allow a denied request || enforced ALLOW misses, the dry-run ALLOW matches || ALLOW shop/a: to.paths=/a ;; ALLOW shop/b dry: to.paths=/b || GET path=/b || DENY no_allow_match dry=ALLOW:allow_matched:shop/b#0
      AP §dry-run: would deny an allowed request || enforced ALLOW matches, a dry-run DENY matches too || ALLOW shop/a: {} ;; DENY shop/d dry: to.methods=DELETE || DELETE path=/x || ALLOW allow_matched shop/a#0 dry=DENY:deny_matched:shop/d#0
      AP §rules: absent on ALLOW || an ALLOW policy without rules allows nothing || ALLOW shop/deny-all || GET path=/x || DENY no_allow_match
      AP §rules: empty rule on ALLOW || rules: [{}] allows everything || ALLOW shop/allow-all: {} || GET path=/x || ALLOW allow_matched shop/allow-all#0
      AP §rules: absent on DENY || a DENY policy without rules denies nothing || DENY shop/d || GET path=/x || ALLOW no_allow_policies
      AP §rules: empty rule on DENY || rules: [{}] denies everything || DENY shop/d: {} || GET path=/x || DENY deny_matched shop/d#0
      AP §Rule: from OR || a request matching any from entry matches || ALLOW shop/a: from#0.namespaces=ops from#1.namespaces=shop || GET path=/ %WEB || ALLOW allow_matched shop/a#0
      AP §Rule: to OR || a request matching any to entry matches || ALLOW shop/a: to#0.methods=POST to#1.paths=/x || GET path=/x || ALLOW allow_matched shop/a#0
      AP §Rule: from AND to || both a from and a to entry must match || ALLOW shop/a: from.namespaces=shop to.methods=POST || GET path=/x %WEB || DENY no_allow_match
      AP §Rule: when AND || every condition must hold || ALLOW shop/a: when.request.headers[x-a]=1 when.request.headers[x-b]=2 || GET path=/ h:x-a=1 || DENY no_allow_match
      AP §Rule: when AND (all hold) || every condition holds || ALLOW shop/a: when.request.headers[x-a]=1 when.request.headers[x-b]=2 || GET path=/ h:x-a=1 h:x-b=2 || ALLOW allow_matched shop/a#0
      AP §Source: fields AND || principals and namespaces must both match || ALLOW shop/a: from.principals=lattice.local/ns/shop/sa/web from.namespaces=ops || GET path=/ %WEB || DENY no_allow_match
      AP §Source: values OR || any listed principal matches || ALLOW shop/a: from.principals=lattice.local/ns/x/sa/y,lattice.local/ns/shop/sa/web || GET path=/ %WEB || ALLOW allow_matched shop/a#0
      AP §Source.principals: exact || the peer's SPIFFE ID without scheme || ALLOW shop/a: from.principals=lattice.local/ns/shop/sa/web || GET path=/ %WEB || ALLOW allow_matched shop/a#0
      AP §Source.principals: scheme in policy || a principal written with spiffe:// matches the same || ALLOW shop/a: from.principals=spiffe://lattice.local/ns/shop/sa/web || GET path=/ %WEB || ALLOW allow_matched shop/a#0
      AP §Source.principals: no match || another workload's principal || ALLOW shop/a: from.principals=lattice.local/ns/shop/sa/web || GET path=/ %ADMIN || DENY no_allow_match
      AP §Rule string match: prefix || "abc*" matches by prefix || ALLOW shop/a: from.principals=lattice.local/ns/shop/* || GET path=/ %WEB || ALLOW allow_matched shop/a#0
      AP §Source.principals: prefix, other trust domain || a namespace prefix does not match the namespace in another trust domain || ALLOW shop/a: from.principals=lattice.local/ns/shop/* || GET path=/ from=other.example/ns/shop/sa/web || DENY no_allow_match
      AP §Source.principals: prefix, ns not first || the ID must start with the prefix, not just carry the namespace || ALLOW shop/a: from.principals=lattice.local/ns/shop/* || GET path=/ from=lattice.local/x/ns/shop/sa/web || DENY no_allow_match
      AP §Source.principals: prefix inside a segment || a prefix ending inside the namespace || ALLOW shop/a: from.principals=lattice.local/ns/sh* || GET path=/ %WEB || ALLOW allow_matched shop/a#0
      AP §Source.principals: prefix with scheme || a prefix written with spiffe:// || ALLOW shop/a: from.principals=spiffe://lattice.local/ns/shop/* || GET path=/ %WEB || ALLOW allow_matched shop/a#0
      AP §Rule string match: suffix || "*abc" matches by suffix || ALLOW shop/a: from.principals=*/sa/web || GET path=/ %WEB || ALLOW allow_matched shop/a#0
      AP §Rule string match: presence || "*" matches any authenticated peer || ALLOW shop/a: from.principals=* || GET path=/ %WEB || ALLOW allow_matched shop/a#0
      AP §Source.principals: requires mTLS || "*" does not match a plaintext request || ALLOW shop/a: from.principals=* || GET path=/ || DENY no_allow_match
      AP §Source.notPrincipals || a listed principal is excluded || ALLOW shop/a: from.notPrincipals=lattice.local/ns/shop/sa/web || GET path=/ %WEB || DENY no_allow_match
      AP §Source.notPrincipals: others pass || an unlisted principal passes the negation || ALLOW shop/a: from.notPrincipals=lattice.local/ns/shop/sa/web || GET path=/ %ADMIN || ALLOW allow_matched shop/a#0
      AP §Source.notPrincipals: deny plaintext || DENY notPrincipals * rejects every plaintext request || DENY shop/require-mtls: from.notPrincipals=* || GET path=/ || DENY deny_matched shop/require-mtls#0
      AP §Source.notPrincipals: mTLS passes || the same DENY lets an authenticated peer through || DENY shop/require-mtls: from.notPrincipals=* || GET path=/ %WEB || ALLOW no_allow_policies
      AP §Source.namespaces || the namespace from the peer's SPIFFE ID || ALLOW shop/a: from.namespaces=shop || GET path=/ %WEB || ALLOW allow_matched shop/a#0
      AP §Source.namespaces: other || a peer from another namespace || ALLOW shop/a: from.namespaces=shop || GET path=/ %ADMIN || DENY no_allow_match
      AP §Source.namespaces: prefix || namespaces support prefix match || ALLOW shop/a: from.namespaces=sh* || GET path=/ %WEB || ALLOW allow_matched shop/a#0
      AP §Source.namespaces: requires mTLS || a plaintext request has no namespace || ALLOW shop/a: from.namespaces=* || GET path=/ || DENY no_allow_match
      AP §Source.notNamespaces || a listed namespace is excluded || ALLOW shop/a: from.notNamespaces=ops || GET path=/ %ADMIN || DENY no_allow_match
      AP §Source.notNamespaces: plaintext || a plaintext request is not in the listed namespace || ALLOW shop/a: from.notNamespaces=ops || GET path=/ || ALLOW allow_matched shop/a#0
      AP §Source.serviceAccounts || <namespace>/<name> from the peer's SPIFFE ID || ALLOW shop/a: from.serviceAccounts=shop/web || GET path=/ %WEB || ALLOW allow_matched shop/a#0
      AP §Source.serviceAccounts: exact only || another account in the same namespace || ALLOW shop/a: from.serviceAccounts=shop/web || GET path=/ from=lattice.local/ns/shop/sa/webby || DENY no_allow_match
      AP §Source.serviceAccounts: any trust domain || the account matches whatever the trust domain || ALLOW shop/a: from.serviceAccounts=shop/web || GET path=/ from=other.example/ns/shop/sa/web || ALLOW allow_matched shop/a#0
      AP §Source.serviceAccounts: requires mTLS || a plaintext request has no service account || ALLOW shop/a: from.serviceAccounts=shop/web || GET path=/ || DENY no_allow_match
      AP §Source.notServiceAccounts || a listed account is excluded || DENY shop/d: from.notServiceAccounts=shop/web || GET path=/ %ADMIN || DENY deny_matched shop/d#0
      AP §Source.notServiceAccounts: listed passes || the listed account is not denied || DENY shop/d: from.notServiceAccounts=shop/web || GET path=/ %WEB || ALLOW no_allow_policies
      AP §Source.ipBlocks: CIDR || the peer address in a CIDR block || ALLOW shop/a: from.ipBlocks=10.0.0.0/24 || GET path=/ ip=10.0.0.7 || ALLOW allow_matched shop/a#0
      AP §Source.ipBlocks: single IP || a single address || ALLOW shop/a: from.ipBlocks=10.0.0.7 || GET path=/ ip=10.0.0.8 || DENY no_allow_match
      AP §Source.ipBlocks: IPv6 || an IPv6 block || ALLOW shop/a: from.ipBlocks=fd00::/8 || GET path=/ ip=fd00::1 || ALLOW allow_matched shop/a#0
      AP §Source.ipBlocks: families || an IPv4 address is not in an IPv6 block || ALLOW shop/a: from.ipBlocks=fd00::/8 || GET path=/ ip=10.0.0.1 || DENY no_allow_match
      AP §Source.notIpBlocks || an address in a negated block is excluded || DENY shop/d: from.notIpBlocks=10.0.0.0/8 || GET path=/ ip=192.168.1.1 || DENY deny_matched shop/d#0
      AP §Source.ipBlocks: peer, not XFF || ipBlocks look at the connection's peer, never X-Forwarded-For || ALLOW shop/a: from.ipBlocks=1.2.3.4 || GET path=/ ip=10.0.0.7 xff=1.2.3.4 trusted=1 || DENY no_allow_match
      AP §Source.remoteIpBlocks: no trusted proxy || without trusted proxies the remote address is the peer || ALLOW shop/a: from.remoteIpBlocks=10.0.0.7 || GET path=/ ip=10.0.0.7 xff=1.2.3.4 || ALLOW allow_matched shop/a#0
      AP §Source.remoteIpBlocks: one trusted proxy || the right-most X-Forwarded-For entry || ALLOW shop/a: from.remoteIpBlocks=5.6.7.8 || GET path=/ ip=10.0.0.7 xff=1.2.3.4,5.6.7.8 trusted=1 || ALLOW allow_matched shop/a#0
      AP §Source.remoteIpBlocks: two trusted proxies || the second entry from the right; the left end is never trusted || ALLOW shop/a: from.remoteIpBlocks=1.2.3.4 || GET path=/ ip=10.0.0.7 xff=9.9.9.9,1.2.3.4,5.6.7.8 trusted=2 || ALLOW allow_matched shop/a#0
      AP §Source.remoteIpBlocks: spoofed left entry || a client-written left entry does not count with one trusted proxy || ALLOW shop/a: from.remoteIpBlocks=9.9.9.9 || GET path=/ ip=10.0.0.7 xff=9.9.9.9,5.6.7.8 trusted=1 || DENY no_allow_match
      AP §Source.remoteIpBlocks: short header || fewer entries than trusted proxies: the peer address || ALLOW shop/a: from.remoteIpBlocks=10.0.0.7 || GET path=/ ip=10.0.0.7 xff=5.6.7.8 trusted=3 || ALLOW allow_matched shop/a#0
      AP §Source.notRemoteIpBlocks || a negated remote block is excluded || DENY shop/d: from.remoteIpBlocks=5.0.0.0/8 from.notRemoteIpBlocks=5.6.7.8 || GET path=/ xff=5.6.7.8 trusted=1 || ALLOW no_allow_policies
      AP §Source.requestPrincipals: no JWT || without a validated JWT the rule fails closed || ALLOW shop/a: from.requestPrincipals=* || GET path=/ || DENY no_allow_match
      AP §Source.requestPrincipals: iss/sub || the JWT's <iss>/<sub> || ALLOW shop/a: from.requestPrincipals=issuer.example/alice || GET path=/ jwt=issuer.example/alice || ALLOW allow_matched shop/a#0
      AP §Source.requestPrincipals: prefix || an issuer-wide prefix || ALLOW shop/a: from.requestPrincipals=issuer.example/* || GET path=/ jwt=other.example/alice || DENY no_allow_match
      AP §Source.notRequestPrincipals: require JWT || DENY notRequestPrincipals * rejects requests without a JWT || DENY shop/require-jwt: from.notRequestPrincipals=* || GET path=/ || DENY deny_matched shop/require-jwt#0
      AP §Source.notRequestPrincipals: with JWT || the same DENY lets a request with a JWT through || DENY shop/require-jwt: from.notRequestPrincipals=* || GET path=/ jwt=issuer.example/alice || ALLOW no_allow_policies
      AP §Operation: fields AND || method and path must both match || ALLOW shop/a: to.methods=GET to.paths=/x || POST path=/x || DENY no_allow_match
      AP §Operation.hosts: case-insensitive || hosts compare without case || ALLOW shop/a: to.hosts=Shop.Example.com || GET host=shop.EXAMPLE.com path=/ || ALLOW allow_matched shop/a#0
      BP §writing host match policies: port || the full authority is matched: a host without port misses host:port || ALLOW shop/a: to.hosts=shop.example.com || GET host=shop.example.com:8080 path=/ || DENY no_allow_match
      BP §writing host match policies: host:* || "host:*" covers every port || ALLOW shop/a: to.hosts=shop.example.com,shop.example.com:* || GET host=shop.example.com:8080 path=/ || ALLOW allow_matched shop/a#0
      AP §Operation.hosts: suffix || "*.example.com" by suffix || ALLOW shop/a: to.hosts=*.example.com || GET host=api.example.com path=/ || ALLOW allow_matched shop/a#0
      AP §Operation.notHosts || a listed host is excluded || DENY shop/d: to.notHosts=shop.example.com || GET host=evil.example path=/ || DENY deny_matched shop/d#0
      AP §Operation.ports || the destination port || ALLOW shop/a: to.ports=8080 || GET path=/ port=8080 || ALLOW allow_matched shop/a#0
      AP §Operation.ports: other || another port || ALLOW shop/a: to.ports=8080 || GET path=/ port=9090 || DENY no_allow_match
      AP §Operation.notPorts || a listed port is excluded || ALLOW shop/a: to.notPorts=9090 || GET path=/ port=9090 || DENY no_allow_match
      AP §Operation.methods: exact || methods match exactly || ALLOW shop/a: to.methods=GET,HEAD || HEAD path=/ || ALLOW allow_matched shop/a#0
      AP §Operation.methods: case-sensitive || a policy's lower-case method matches only that method || ALLOW shop/a: to.methods=get || GET path=/ || DENY no_allow_match
      AP §Operation.methods: lower-case request || a lower-case method in a policy matches a lower-case request || ALLOW shop/a: to.methods=get || get path=/ || ALLOW allow_matched shop/a#0
      AP §Operation.methods: gRPC || gRPC calls are POST || ALLOW shop/a: to.methods=POST to.paths=/shop.Cart/* || POST path=/shop.Cart/Add || ALLOW allow_matched shop/a#0
      AP §Operation.notMethods || a listed method is excluded || DENY shop/d: to.notMethods=GET,HEAD || DELETE path=/ || DENY deny_matched shop/d#0
      AP §Operation.paths: exact || an exact path || ALLOW shop/a: to.paths=/api/items || GET path=/api/items || ALLOW allow_matched shop/a#0
      AP §Operation.paths: exact is exact || a longer path misses an exact pattern || ALLOW shop/a: to.paths=/api/items || GET path=/api/items/7 || DENY no_allow_match
      AP §Operation.paths: prefix || a prefix pattern || ALLOW shop/a: to.paths=/api/* || GET path=/api/items/7 || ALLOW allow_matched shop/a#0
      AP §Operation.paths: prefix is textual || "/api*" also matches /apix (a plain string prefix) || ALLOW shop/a: to.paths=/api* || GET path=/apix || ALLOW allow_matched shop/a#0
      AP §Operation.paths: suffix || a suffix pattern || ALLOW shop/a: to.paths=*.png || GET path=/img/logo.png || ALLOW allow_matched shop/a#0
      AP §Operation.paths: presence || "*" matches any path || ALLOW shop/a: to.paths=* || GET path=/anything || ALLOW allow_matched shop/a#0
      AP §Operation.paths: query string || the query string is never part of the path || ALLOW shop/a: to.paths=/search || GET path=/search?q=1 || ALLOW allow_matched shop/a#0
      AP §Operation.paths: query not matchable || a pattern with a query never matches || ALLOW shop/a: to.paths=/search?q=1 || GET path=/search?q=1 || DENY no_allow_match
      AP §Operation.paths: template {*} || {*} matches one segment || ALLOW shop/a: to.paths=/api/{*}/items || GET path=/api/v1/items || ALLOW allow_matched shop/a#0
      AP §Operation.paths: template {*} one segment || {*} does not span a slash || ALLOW shop/a: to.paths=/api/{*}/items || GET path=/api/v1/x/items || DENY no_allow_match
      AP §Operation.paths: template {*} non-empty || {*} needs a non-empty segment || ALLOW shop/a: to.paths=/api/{*}/items || GET path=/api//items norm=BASE || DENY no_allow_match
      AP §Operation.paths: template {**} || {**} matches the rest of the path || ALLOW shop/a: to.paths=/files/{**} || GET path=/files/a/b/c.txt || ALLOW allow_matched shop/a#0
      AP §Operation.paths: template {**} empty || {**} matches nothing after the slash || ALLOW shop/a: to.paths=/files/{**} || GET path=/files/ || ALLOW allow_matched shop/a#0
      AP §Operation.paths: template {**} boundary || /files does not match /files/{**} || ALLOW shop/a: to.paths=/files/{**} || GET path=/files || DENY no_allow_match
      AP §Operation.paths: template tail || {**} then a literal tail (indexed by the tail) || ALLOW shop/a: to.paths=/files/{**}/archive.zip || GET path=/files/a/b/archive.zip || ALLOW allow_matched shop/a#0
      AP §Operation.paths: template tail at the end || the tail must end the path || ALLOW shop/a: to.paths=/files/{**}/archive.zip || GET path=/files/a/archive.zip.bak || DENY no_allow_match
      AP §Operation.paths: templates combined || {*} then {**} || ALLOW shop/a: to.paths=/u/{*}/docs/{**} || GET path=/u/7/docs/a/b || ALLOW allow_matched shop/a#0
      AP §Operation.notPaths || a listed path is excluded || DENY shop/d: to.notPaths=/public/* || GET path=/private || DENY deny_matched shop/d#0
      AP §Operation.notPaths: listed passes || a listed path passes the DENY || DENY shop/d: to.notPaths=/public/* || GET path=/public/a || ALLOW no_allow_policies
      COND §request.headers || a header value || ALLOW shop/a: when.request.headers[x-user]=alice || GET path=/ h:x-user=alice || ALLOW allow_matched shop/a#0
      COND §request.headers: name case || header names are case-insensitive || ALLOW shop/a: when.request.headers[X-User]=alice || GET path=/ h:x-USER=alice || ALLOW allow_matched shop/a#0
      COND §request.headers: spiffe value || a header value is compared as written (only principals drop the scheme) || ALLOW shop/a: when.request.headers[x-id]=spiffe://a/b || GET path=/ h:x-id=spiffe://a/b || ALLOW allow_matched shop/a#0
      COND §request.headers: value case || header values are case-sensitive || ALLOW shop/a: when.request.headers[x-user]=alice || GET path=/ h:x-user=Alice || DENY no_allow_match
      COND §request.headers: prefix || a value prefix || ALLOW shop/a: when.request.headers[user-agent]=Mozilla/* || GET path=/ h:user-agent=Mozilla/5.0 || ALLOW allow_matched shop/a#0
      COND §request.headers: presence || "*" requires the header || ALLOW shop/a: when.request.headers[x-token]=* || GET path=/ || DENY no_allow_match
      COND §request.headers: notValues || a negated value excludes || DENY shop/d: when.request.headers[x-env]!=prod || GET path=/ h:x-env=dev || DENY deny_matched shop/d#0
      COND §request.headers: notValues absent || an absent header is not the negated value || DENY shop/d: when.request.headers[x-env]!=prod || GET path=/ || DENY deny_matched shop/d#0
      COND §request.headers: repeated || several values are joined with "," as Envoy matches them || ALLOW shop/a: when.request.headers[x-a]=*,2 || GET path=/ h:x-a=1,2 || ALLOW allow_matched shop/a#0
      COND §source.ip || the peer address as a condition || ALLOW shop/a: when.source.ip=10.0.0.0/8 || GET path=/ ip=10.1.2.3 || ALLOW allow_matched shop/a#0
      COND §source.ip: notValues || a negated block || DENY shop/d: when.source.ip!=10.0.0.0/8 || GET path=/ ip=192.168.0.1 || DENY deny_matched shop/d#0
      COND §remote.ip || the X-Forwarded-For client address || ALLOW shop/a: when.remote.ip=5.6.7.0/24 || GET path=/ xff=5.6.7.8 trusted=1 || ALLOW allow_matched shop/a#0
      COND §source.namespace || the peer's namespace || ALLOW shop/a: when.source.namespace=ops || GET path=/ %ADMIN || ALLOW allow_matched shop/a#0
      COND §source.principal || the peer's principal || ALLOW shop/a: when.source.principal=lattice.local/ns/ops/sa/admin || GET path=/ %ADMIN || ALLOW allow_matched shop/a#0
      COND §source.principal: plaintext || requires mTLS || ALLOW shop/a: when.source.principal=* || GET path=/ || DENY no_allow_match
      COND §request.auth.principal || the JWT principal || ALLOW shop/a: when.request.auth.principal=issuer.example/alice || GET path=/ jwt=issuer.example/alice || ALLOW allow_matched shop/a#0
      COND §request.auth.principal: no JWT || fails closed without a JWT || ALLOW shop/a: when.request.auth.principal=* || GET path=/ || DENY no_allow_match
      COND §request.auth.audiences || any audience matches || ALLOW shop/a: when.request.auth.audiences=shop.example || GET path=/ jwt=i/s aud=other,shop.example || ALLOW allow_matched shop/a#0
      COND §request.auth.audiences: none || no audience matches || ALLOW shop/a: when.request.auth.audiences=shop.example || GET path=/ jwt=i/s aud=other || DENY no_allow_match
      COND §request.auth.presenter || the azp claim || ALLOW shop/a: when.request.auth.presenter=web-app || GET path=/ jwt=i/s azp=web-app || ALLOW allow_matched shop/a#0
      COND §request.auth.claims || a string claim || ALLOW shop/a: when.request.auth.claims[group]=admins || GET path=/ jwt=i/s claim:group=admins || ALLOW allow_matched shop/a#0
      COND §request.auth.claims: list || a list claim matches any element || ALLOW shop/a: when.request.auth.claims[groups]=admins || GET path=/ jwt=i/s claim:groups=users,admins || ALLOW allow_matched shop/a#0
      COND §request.auth.claims: nested || nested claims by successive brackets || ALLOW shop/a: when.request.auth.claims[realm][role]=admin || GET path=/ jwt=i/s claim:realm.role=admin || ALLOW allow_matched shop/a#0
      COND §request.auth.claims: nested miss || a nested claim of another value || ALLOW shop/a: when.request.auth.claims[realm][role]=admin || GET path=/ jwt=i/s claim:realm.role=user || DENY no_allow_match
      COND §request.auth.claims: notValues || a negated claim value denies || DENY shop/d: when.request.auth.claims[groups]!=admins || GET path=/ jwt=i/s claim:groups=users || DENY deny_matched shop/d#0
      COND §request.auth.claims: no JWT || fails closed without a JWT || ALLOW shop/a: when.request.auth.claims[group]=* || GET path=/ || DENY no_allow_match
      COND §destination.ip || the address connected to || ALLOW shop/a: when.destination.ip=127.0.0.0/8 || GET path=/ dst=127.0.0.5 || ALLOW allow_matched shop/a#0
      COND §destination.port || the port connected to || ALLOW shop/a: when.destination.port=8080 || GET path=/ port=8080 || ALLOW allow_matched shop/a#0
      COND §destination.port: notValues || a negated port || ALLOW shop/a: when.destination.port!=8080 || GET path=/ port=8080 || DENY no_allow_match
      COND §connection.sni || the TLS server name || ALLOW shop/a: when.connection.sni=*.shop.svc || GET path=/ sni=cart.shop.svc || ALLOW allow_matched shop/a#0
      COND §unsupported key: ALLOW || a condition the engine cannot evaluate fails closed: the ALLOW rule matches nothing || ALLOW shop/a: when.experimental.envoy.filters.foo=1 || GET path=/ || DENY no_allow_match
      COND §unsupported key: DENY || the same in a DENY rule fails closed: the rule denies || DENY shop/d: when.experimental.envoy.filters.foo=1 || GET path=/ || DENY deny_matched shop/d#0
      COND §unsupported key: typo || an unknown key is not a wildcard || ALLOW shop/a: from.principals=* when.source.princpal=x || GET path=/ %WEB || DENY no_allow_match
      TCP §HTTP-only fields in ALLOW || an ALLOW rule using paths never matches a TCP connection || ALLOW shop/a: to.paths=/x || TCP port=5432 || DENY no_allow_match
      TCP §HTTP-only fields in ALLOW: methods || the same for methods || ALLOW shop/a: to.methods=GET to.ports=5432 || TCP port=5432 || DENY no_allow_match
      TCP §HTTP-only fields in ALLOW: headers || and for request headers || ALLOW shop/a: when.request.headers[x]=1 || TCP port=5432 || DENY no_allow_match
      TCP §HTTP-only fields in ALLOW: requestPrincipals || and for request principals || ALLOW shop/a: from.requestPrincipals=* || TCP port=5432 || DENY no_allow_match
      TCP §TCP fields in ALLOW || an ALLOW rule on ports and principals works for TCP || ALLOW shop/a: from.principals=lattice.local/ns/shop/sa/web to.ports=5432 || TCP port=5432 %WEB || ALLOW allow_matched shop/a#0
      TCP §TCP fields: other port || the same rule misses another port || ALLOW shop/a: from.principals=lattice.local/ns/shop/sa/web to.ports=5432 || TCP port=6379 %WEB || DENY no_allow_match
      TCP §HTTP-only fields in DENY || HTTP-only fields are dropped from a DENY rule, so it denies more || DENY shop/d: to.methods=DELETE to.ports=5432 || TCP port=5432 || DENY deny_matched shop/d#0
      TCP §HTTP-only fields in DENY: other port || the remaining port condition still applies || DENY shop/d: to.methods=DELETE to.ports=5432 || TCP port=6379 || ALLOW no_allow_policies
      TCP §HTTP-only fields in DENY: only HTTP || a DENY rule of HTTP-only fields denies every TCP connection || DENY shop/d: to.paths=/admin || TCP port=5432 || DENY deny_matched shop/d#0
      TCP §HTTP-only condition in DENY || an HTTP-only condition is dropped too || DENY shop/d: when.request.headers[x]=1 when.destination.port=5432 || TCP port=5432 || DENY deny_matched shop/d#0
      TCP §ALLOW and a TCP rule || a policy with an HTTP rule and a TCP rule: the TCP rule decides || ALLOW shop/a: to.paths=/x | to.ports=5432 || TCP port=5432 || ALLOW allow_matched shop/a#1
      TCP §source.ip on TCP || source.ip is supported on TCP || ALLOW shop/a: when.source.ip=10.0.0.0/8 || TCP port=5432 ip=10.2.3.4 || ALLOW allow_matched shop/a#0
      TCP §AUDIT with HTTP fields || an AUDIT rule with HTTP-only fields does not mark TCP || AUDIT shop/log: to.paths=/x || TCP port=5432 || ALLOW no_policies
      TCP §plaintext against mTLS-only fields || notPrincipals * denies a plaintext TCP connection || DENY shop/d: from.notPrincipals=* || TCP port=5432 || DENY deny_matched shop/d#0
      NORM §BASE: dot segments || /a/../admin is /admin, so the DENY on /admin applies || DENY shop/d: to.paths=/admin* || GET path=/public/../admin || DENY deny_matched shop/d#0
      NORM §BASE: encoded dots || %2e%2e is decoded (unreserved) and removed || DENY shop/d: to.paths=/admin* || GET path=/public/%2e%2e/admin || DENY deny_matched shop/d#0
      NORM §BASE: backslash || \\ becomes / || DENY shop/d: to.paths=/admin* || GET path=/public\\..\\admin || DENY deny_matched shop/d#0
      NORM §BASE: single dot || /./ segments are removed || ALLOW shop/a: to.paths=/a/b || GET path=/a/./b || ALLOW allow_matched shop/a#0
      NORM §BASE: unreserved decoded || %41 is A || ALLOW shop/a: to.paths=/Admin || GET path=/%41dmin || ALLOW allow_matched shop/a#0
      NORM §BASE: reserved kept || %2F stays encoded: /a%2Fb is not /a/b || ALLOW shop/a: to.paths=/a/b || GET path=/a%2Fb || DENY no_allow_match
      NORM §BASE: hex case || other percent-encodings are upper-cased || ALLOW shop/a: to.paths=/a%2Fb || GET path=/a%2fb || ALLOW allow_matched shop/a#0
      NORM §BASE: slashes kept || BASE does not merge slashes || ALLOW shop/a: to.paths=/a/b || GET path=//a//b || DENY no_allow_match
      NORM §BASE: climbing above root || /../../x is /x || ALLOW shop/a: to.paths=/x || GET path=/../../x || ALLOW allow_matched shop/a#0
      NORM §NONE || no normalization: /public/../admin misses the DENY on /admin* || DENY shop/d: to.paths=/admin* || GET path=/public/../admin norm=NONE || ALLOW no_allow_policies
      NORM §NONE: query still dropped || the query string is never matched || ALLOW shop/a: to.paths=/x || GET path=/x?y=1 norm=NONE || ALLOW allow_matched shop/a#0
      NORM §MERGE_SLASHES || //admin is /admin || DENY shop/d: to.paths=/admin || GET path=//admin norm=MERGE_SLASHES || DENY deny_matched shop/d#0
      NORM §MERGE_SLASHES: encoded slash || %2F is not decoded by MERGE_SLASHES || ALLOW shop/a: to.paths=/a/b || GET path=/a%2Fb norm=MERGE_SLASHES || DENY no_allow_match
      NORM §DECODE_AND_MERGE_SLASHES || %2F is decoded and merged || DENY shop/d: to.paths=/a/b || GET path=/a%2F%2fb norm=DECODE_AND_MERGE_SLASHES || DENY deny_matched shop/d#0
      NORM §DECODE_AND_MERGE_SLASHES: backslash || %5C is decoded to / || DENY shop/d: to.paths=/a/b || GET path=/a%5Cb norm=DECODE_AND_MERGE_SLASHES || DENY deny_matched shop/d#0
      NORM §fragment || a fragment is not part of the path || ALLOW shop/a: to.paths=/x || GET path=/x#frag || ALLOW allow_matched shop/a#0
      NORM §rejected: NUL || a NUL byte in the path is rejected before authorization || ALLOW shop/a: {} || GET path=/a\\0b || REJECT
      NORM §rejected: invalid percent-encoding || %zz cannot be decoded || ALLOW shop/a: {} || GET path=/a%zz || REJECT
      NORM §rejected: truncated percent-encoding || a trailing % || ALLOW shop/a: {} || GET path=/a% || REJECT
      NORM §rejected: encoded NUL || %00 is rejected || ALLOW shop/a: {} || GET path=/a%00 || REJECT
      NORM §rejected: relative path || a path must start with / || ALLOW shop/a: {} || GET path=admin || REJECT
      NORM §rejected: control character || a control character (DEL) || ALLOW shop/a: {} || GET path=/a\u007fb || REJECT
      NORM §rejected: invalid method || the method is not a token || ALLOW shop/a: {} || G(T path=/ || REJECT
      NORM §rejected: invalid header name || a header name is not a token || ALLOW shop/a: {} || GET path=/ h:x(y=1 || REJECT
      NORM §rejected in NONE too || malformed paths are rejected whatever the option || ALLOW shop/a: {} || GET path=/a%zz norm=NONE || REJECT
      """;

  static Stream<Arguments> rows() {
    List<Arguments> out = new ArrayList<>();
    for (String line : TABLE.strip().split("\n")) {
      String[] c = line.replace("%WEB", WEB).replace("%ADMIN", ADMIN).split("\\s*\\|\\|\\s*", -1);
      if (c.length != 5) throw new IllegalStateException("row needs 5 columns: " + line);
      out.add(Arguments.of(c[0].trim(), c[1].trim(), c[2].trim(), c[3].trim(), c[4].trim()));
    }
    return out.stream();
  }

  @ParameterizedTest(name = "[{index}] {0}: {1}")
  @MethodSource("rows")
  void decides(String section, String what, String policies, String request, String expected) {
    var config = PolicyText.config(policies);
    RequestText.Parsed parsed = RequestText.parse(request);
    String got = parsed.rejection() != null ? "REJECT" : render(AuthorizationEngine.of(config).evaluate(parsed.request()));
    assertThat(got).as("%s — %s", section, what).isEqualTo(expected);
    if (parsed.rejection() == null) {
      assertThat(render(AuthorizationEngine.linear(config).evaluate(parsed.request())))
          .as("the linear scan agrees").isEqualTo(got);
    }
  }

  @org.junit.jupiter.api.Test
  void theTableCoversTheReference() {
    assertThat(rows().count()).isGreaterThanOrEqualTo(120);
  }

  static String render(Decision d) {
    StringBuilder b = new StringBuilder(d.verdict() + " " + d.reason().code());
    if (d.policy() != null) b.append(' ').append(d.policy()).append('#').append(d.ruleIndex());
    if (d.dryRun() != null) {
      Decision.Outcome o = d.dryRun();
      b.append(" dry=").append(o.verdict()).append(':').append(o.reason().code());
      if (o.policy() != null) b.append(':').append(o.policy()).append('#').append(o.ruleIndex());
    }
    if (!d.audits().isEmpty()) {
      b.append(" audit=");
      for (int i = 0; i < d.audits().size(); i++) {
        if (i > 0) b.append(',');
        b.append(d.audits().get(i).policy()).append('#').append(d.audits().get(i).ruleIndex());
      }
    }
    return b.toString();
  }
}
