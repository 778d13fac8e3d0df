#!/usr/bin/env bash
# The Lattice proxy as a peer-bench SUT (../shared/tools/peer-bench/README.md, "SUT contract"):
# writes a file-mode config from SUT_PORT / BACKEND_HOST / BACKEND_PORT and execs the proxy in the
# foreground. Variant: bare (one route), authz (the same route on an inbound listener with 5
# authorization policies), full (authz plus Istio metrics and, when BENCH_KAFKA names a broker, flow
# records; the access log stays off as in every variant) or routes50 (issue 10: a 50-route table, every
# route with a 90/10 weighted split, retries and a route timeout, and a listener rate limit; wrk's GET /
# only matches the last route, so each request is judged against all 50). Started by peer-bench.sh; needs data-plane/target/bench-classpath.txt.
set -euo pipefail
VARIANT=${1:?usage: sut.sh bare|authz|full|routes50}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODULE="$(cd "$HERE/../.." && pwd)"
CONF="${PEER_BENCH_TMP:-/tmp}/lattice-$VARIANT.yaml"

TLS_LINE=""
if [[ ${FRONT_TLS:-0} == 1 ]]; then
  # MODE=tls: terminate TLS with the harness's throwaway certificate; LATTICE_TLS_ENGINE=jdk measures the fallback
  TLS_LINE="    tls: {mode: SIMPLE, serverCertificate: '${TLS_CERT:?}', privateKey: '${TLS_KEY:?}'}"
fi
case $VARIANT in
  bare) DIRECTION=OUTBOUND AUTHZ_LINE="" ;;
  authz|full) DIRECTION=INBOUND AUTHZ_LINE="    authorization: bench-authz" ;;
  routes50) DIRECTION=OUTBOUND AUTHZ_LINE="    rateLimit: bench-limits" ;;
  *) echo "sut.sh: unknown variant $VARIANT (expected: bare, authz, full, routes50)" >&2; exit 2 ;;
esac

# routes50: 49 routes of the usual shapes that GET / does not match (uri prefix, prefix + method, prefix +
# header, regex, exact), then the catch-all; each splits 90/10 between two clusters on the same backend,
# retries twice on 5xx/reset with a per-try timeout, and has a route timeout (timers armed per request).
routes50() {
  local i match
  for ((i = 1; i <= 49; i++)); do
    case $((i % 5)) in
      0) match="{uri: {prefix: /svc-$i/}}" ;;
      1) match="{uri: {prefix: /svc-$i/}, method: {exact: POST}}" ;;
      2) match="{uri: {prefix: /svc-$i/}, headers: {x-tenant: {exact: t$i}}}" ;;
      3) match="{uri: {regex: \"/svc-$i/items/[0-9]+\"}}" ;;
      4) match="{uri: {exact: /svc-$i}}" ;;
    esac
    cat <<YAML
          - name: default/svc-$i
            match: [$match]
            clusters: [{cluster: backend, weight: 90}, {cluster: backend-canary, weight: 10}]
            timeout: 15000
            retries: {attempts: 2, perTryTimeout: 5000, retryOn: "5xx,reset"}
YAML
  done
  cat <<YAML
          - name: default/backend
            clusters: [{cluster: backend, weight: 90}, {cluster: backend-canary, weight: 10}]
            timeout: 15000
            retries: {attempts: 2, perTryTimeout: 5000, retryOn: "5xx,reset"}
YAML
}

{
  cat <<YAML
settings: {node: bench, tlsEngine: ${LATTICE_TLS_ENGINE:-auto}}
listeners:
  - name: bench
    address: 127.0.0.1
    port: ${SUT_PORT:?}
    direction: $DIRECTION
    protocol: HTTP
    routeConfig: bench-routes
$AUTHZ_LINE
$TLS_LINE
routes:
  - name: bench-routes
    virtualHosts:
      - name: backend
        domains: ["*"]
        routes:
YAML
  if [[ $VARIANT == routes50 ]]; then
    routes50
  else
    cat <<'YAML'
          - name: default/backend
            clusters: [{cluster: backend}]
YAML
  fi
  cat <<YAML
clusters:
  - name: backend
    host: backend.default
    port: 8080
    endpoints: [{address: ${BACKEND_HOST:?}, port: ${BACKEND_PORT:?}, health: HEALTHY}]
YAML
  if [[ $VARIANT == routes50 ]]; then
    # the canary cluster is the same backend (its own pool); the rate limits are far above any rate wrk
    # reaches, so every request is counted and passes: one node bucket, one bucket for the catch-all route
    cat <<YAML
  - name: backend-canary
    host: backend-canary.default
    port: 8080
    endpoints: [{address: ${BACKEND_HOST:?}, port: ${BACKEND_PORT:?}, health: HEALTHY}]
rateLimits:
  - name: bench-limits
    limits:
      - {name: per-node, requestsPerUnit: 100000000, unit: SECOND}
      - {name: per-route, requestsPerUnit: 100000000, unit: SECOND, match: {routes: [default/backend]}}
YAML
  fi
  if [[ $VARIANT == authz || $VARIANT == full ]]; then
    # Five policies of the usual shapes: two DENY, two ALLOW (one of them matches wrk's GET /), one AUDIT.
    cat <<'YAML'
authorization:
  - name: bench-authz
    policies:
      - {namespace: default, name: deny-admin, action: DENY, rules: [{to: [{operation: {paths: ["/admin/*", "/debug/*"]}}]}]}
      - {namespace: default, name: deny-outside, action: DENY, rules: [{from: [{source: {notIpBlocks: ["127.0.0.0/8", "10.0.0.0/8"]}}]}]}
      - {namespace: default, name: allow-write, action: ALLOW, rules: [{to: [{operation: {methods: [POST, PUT], paths: ["/api/orders/*"]}}]}]}
      - {namespace: default, name: allow-read, action: ALLOW, rules: [{to: [{operation: {methods: [GET, HEAD], paths: ["/", "/api/*", "/static/*"]}}]}]}
      - {namespace: default, name: audit-api, action: AUDIT, rules: [{to: [{operation: {paths: ["/api/*"]}}]}]}
YAML
  fi
} >"$CONF"

CP="$MODULE/target/classes:$(cat "$MODULE/target/bench-classpath.txt")"
# telemetry: none for bare/authz (no admin API, no metrics, no access log); full adds Istio metrics on an
# ephemeral admin port and flow records to BENCH_KAFKA when set
TELEMETRY=(--access-log off --admin-port -1)
if [[ $VARIANT == full ]]; then
  TELEMETRY=(--access-log off --admin-port 0 --admin-token-file "${PEER_BENCH_TMP:-/tmp}/lattice-bench-admin.token")
  [[ -n ${BENCH_KAFKA:-} ]] && TELEMETRY+=(--kafka "$BENCH_KAFKA")
fi
# Matching the peers: WORKERS event loops (1 by default), a small heap, serial GC (pinned to one CPU
# the JVM would pick it anyway; say so explicitly). Logging at WARN keeps the hot path quiet.
exec java -Xms64m -Xmx64m -XX:+UseSerialGC -XX:+UseNUMA -Xss512k \
  -Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.lattice,java.lang,java.util,java.math \
  ${LATTICE_BENCH_JAVA_OPTS:-} \
  -cp "$CP" dev.lattice.dataplane.ProxyMain --config "$CONF" --event-loops "${WORKERS:-1}" "${TELEMETRY[@]}"
