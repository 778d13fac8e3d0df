#!/usr/bin/env bash
# Lattice proxy next to nginx and HAProxy with ../shared/tools/peer-bench/run.sh (one invocation per
# variant, each with both peers in the same run), serialized with the team's benchmark lock.
#   data-plane/src/bench/peer-bench.sh bare|authz [more variants]   (from the project root)
# Environment goes through to run.sh (MODE, DUR, ROUNDS, CONN, RATE, ...); results land in
# OUT_DIR/<variant> (default /tmp/lattice-bench/<timestamp>/<variant>). Not part of CI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
PEER_BENCH="${PEER_BENCH:-$ROOT/../shared/tools/peer-bench/run.sh}"
# a git worktree sits one level deeper than the checkout that has shared/ beside it
[[ -x $PEER_BENCH ]] || PEER_BENCH="$ROOT/../../shared/tools/peer-bench/run.sh"
[[ -x $PEER_BENCH ]] || { echo "peer-bench.sh: $PEER_BENCH not found (set PEER_BENCH)" >&2; exit 2; }
[[ $# -ge 1 ]] || set -- bare authz
OUT="${OUT_DIR:-/tmp/lattice-bench/$(date -u +%Y%m%dT%H%M%S)}"

cd "$ROOT"
if [[ ! -f data-plane/target/bench-classpath.txt || data-plane/pom.xml -nt data-plane/target/bench-classpath.txt ]]; then
  mvn -B -o -q -pl data-plane org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.outputFile=target/bench-classpath.txt -DincludeScope=runtime >&2
fi
[[ -d data-plane/target/classes/dev ]] || { echo "peer-bench.sh: build first (mvn -B -o -q install -DskipTests)" >&2; exit 2; }

for variant in "$@"; do
  echo "== lattice-$variant ($(date -u +%H:%M:%S)) → $OUT/$variant" >&2
  flock /tmp/lattice-bench.lock env OUT_DIR="$OUT/$variant" SUT_NAME="lattice-$variant" \
    SUT_CMD="$ROOT/data-plane/src/bench/sut.sh $variant" "$PEER_BENCH"
done
