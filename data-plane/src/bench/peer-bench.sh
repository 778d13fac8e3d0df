#!/usr/bin/env bash
# Lattice proxy next to nginx and HAProxy with ../shared/tools/peer-bench/run.sh (one invocation per
# variant, each with both peers in the same run), serialized with the team's benchmark lock.
#   data-plane/src/bench/peer-bench.sh bare|authz|full|routes50 [more variants]   (from the project root)
# run.sh takes one SUT per invocation, so two variants are compared by alternating invocations:
# REPEAT=3 peer-bench.sh bare routes50 runs bare routes50 bare routes50 bare routes50, all under one hold
# of the lock (no other benchmark between them), then combines each variant's invocations (lib/combine.py).
# Environment goes through to run.sh (MODE, DUR, ROUNDS, CONN, RATE, ...); results land in
# OUT_DIR/<variant> (REPEAT > 1: OUT_DIR/<variant>-<k>); default OUT_DIR /tmp/lattice-bench/<timestamp>.
# Not part of CI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
PEER_BENCH="${PEER_BENCH:-$ROOT/../shared/tools/peer-bench/run.sh}"
# a git worktree sits one level deeper than the checkout that has shared/ beside it
[[ -x $PEER_BENCH ]] || PEER_BENCH="$ROOT/../../shared/tools/peer-bench/run.sh"
[[ -x $PEER_BENCH ]] || { echo "peer-bench.sh: $PEER_BENCH not found (set PEER_BENCH)" >&2; exit 2; }
[[ $# -ge 1 ]] || set -- bare authz
REPEAT=${REPEAT:-1}
export OUT_DIR="${OUT_DIR:-/tmp/lattice-bench/$(date -u +%Y%m%dT%H%M%S)}"

cd "$ROOT"
if [[ ! -f data-plane/target/bench-classpath.txt || data-plane/pom.xml -nt data-plane/target/bench-classpath.txt ]]; then
  mvn -B -o -q -pl data-plane org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.outputFile=target/bench-classpath.txt -DincludeScope=runtime >&2
fi
[[ -d data-plane/target/classes/dev ]] || { echo "peer-bench.sh: build first (mvn -B -o -q install -DskipTests)" >&2; exit 2; }

# hold the team's lock for the whole sequence, so alternating invocations are not split by other runs
if [[ -z ${LATTICE_BENCH_LOCKED:-} ]]; then
  exec env LATTICE_BENCH_LOCKED=1 flock /tmp/lattice-bench.lock "$0" "$@"
fi

OUT="$OUT_DIR"
for ((k = 1; k <= REPEAT; k++)); do
  for variant in "$@"; do
    dir="$OUT/$variant"
    [[ $REPEAT -gt 1 ]] && dir="$OUT/$variant-$k"
    echo "== lattice-$variant ($(date -u +%H:%M:%S)) → $dir" >&2
    env OUT_DIR="$dir" SUT_NAME="lattice-$variant" SUT_CMD="$ROOT/data-plane/src/bench/sut.sh $variant" "$PEER_BENCH"
  done
done
if [[ $REPEAT -gt 1 ]]; then
  for variant in "$@"; do
    echo "== combined lattice-$variant ($REPEAT invocations)"
    python3 "$(dirname "$PEER_BENCH")/lib/combine.py" "$OUT/$variant"-*
  done
fi
