#!/usr/bin/env bash
# CSR -> X.509-SVID signing throughput of the Lattice CA (JDK provider vs Conscrypt) next to
# `openssl speed ecdsap256`, measured in the same run on the same cores. Not part of CI.
# Usage: identity-service/src/bench/run.sh [threads=2] [seconds=5] [baseline git ref] [rounds=1]
# Every round measures every row once, interleaved; each row reports its best round (on a box shared with
# other jobs the best round is the one least disturbed by them).
# With a git ref (e.g. the commit before a CA change), that commit's CA package is compiled and measured
# too ("before" rows), in the same run as the working tree ("after").
set -euo pipefail
THREADS=${1:-2}
SECONDS_PER_RUN=${2:-5}
BASELINE_REF=${3:-}
ROUNDS=${4:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
MODULE=$(cd "$HERE/../.." && pwd)
ROOT=$(cd "$MODULE/.." && pwd)
OUT="$MODULE/target/bench"
mkdir -p "$OUT/classes"

cd "$ROOT"
mvn -B -q -o -pl identity-service compile
mvn -B -q -o -pl identity-service dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$OUT/cp.txt" >/dev/null
CP="$MODULE/target/classes:$(cat "$OUT/cp.txt")"
javac -d "$OUT/classes" -cp "$CP" $(find "$HERE/java/dev/lattice/identity/bench" "$HERE/java/dev/lattice/identity/ca" -name '*.java')
BASELINE_CP=""
if [ -n "$BASELINE_REF" ]; then # the CA package as of that commit, ahead of the working tree's on the classpath
  rm -rf "$OUT/baseline" && mkdir -p "$OUT/baseline/src" "$OUT/baseline/classes"
  git -C "$ROOT" archive "$BASELINE_REF" identity-service/src/main/java/dev/lattice/identity/ca | tar -x -C "$OUT/baseline/src"
  javac -nowarn -d "$OUT/baseline/classes" -cp "$CP" $(find "$OUT/baseline/src" -name '*.java')
  BASELINE_CP="$OUT/baseline/classes:"
fi

JAVA_OPTS="-Xmx512m -XX:+UseParallelGC -Dorg.slf4j.simpleLogger.defaultLogLevel=warn"
run_java() { java $JAVA_OPTS -cp "${2:-}$OUT/classes:$CP" dev.lattice.identity.bench.SigningBenchmark "$1" "$THREADS" "$SECONDS_PER_RUN" 2>/dev/null | grep '^RESULT'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(java -version 2>&1 | head -1)"
echo "openssl: $(openssl version)"
openssl_rate() { # "sign/s verify/s" of the 256-bit ecdsa (nistp256) line
  openssl speed $1 -seconds "$SECONDS_PER_RUN" ecdsap256 2>/dev/null | awk '/256 bits ecdsa \(nistp256\)/ {print $(NF-1), $NF}'
}
best() { # per key, the highest value over the RESULT lines on stdin
  tr ' ' '\n' | awk -F= 'NF==2 && $2 ~ /^[0-9.]+$/ {if (!($1 in m) || $2+0 > m[$1]+0) m[$1]=$2} END {for (k in m) printf "%s=%s ", k, m[k]}'
}
: > "$OUT/rounds.txt"
for round in $(seq 1 "$ROUNDS"); do
  echo "OSSL_MULTI $(openssl_rate "-multi $THREADS" | awk '{print "sign="$1" verify="$2}')" >> "$OUT/rounds.txt"
  echo "JDK $(run_java jdk)" >> "$OUT/rounds.txt"
  echo "CONSCRYPT $(run_java conscrypt)" >> "$OUT/rounds.txt"
  if [ -n "$BASELINE_CP" ]; then echo "BEFORE $(run_java conscrypt "$BASELINE_CP")" >> "$OUT/rounds.txt"; fi
  echo "OSSL_ONE $(openssl_rate "" | awk '{print "sign="$1" verify="$2}')" >> "$OUT/rounds.txt"
  echo "round $round/$ROUNDS done ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
done
of() { grep "^$1 " "$OUT/rounds.txt" | cut -d' ' -f2- | best; }
OSSL_M=$(of OSSL_MULTI)
OSSL_MULTI=$(echo "$OSSL_M" | tr ' ' '\n' | awk -F= '$1=="sign" {print $2}')
OSSL_VERIFY=$(echo "$OSSL_M" | tr ' ' '\n' | awk -F= '$1=="verify" {print $2}')
OSSL_ONE=$(of OSSL_ONE | tr ' ' '\n' | awk -F= '$1=="sign" {print $2}')
JDK=$(of JDK)
CONSCRYPT=$(of CONSCRYPT)
BEFORE=""
if [ -n "$BASELINE_CP" ]; then BEFORE=$(of BEFORE); fi
STAGES=$(java $JAVA_OPTS -cp "$OUT/classes:$CP" dev.lattice.identity.ca.IssuanceStages conscrypt 2 2>/dev/null | grep '^STAGES' || true)

field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k {print $2}'; }
echo "best of $ROUNDS round(s), ${SECONDS_PER_RUN}s per measurement (all rounds: $OUT/rounds.txt)"
printf '\n%-38s %14s %16s\n' "what ($THREADS threads/processes)" "per second" "vs openssl -multi"
printf '%-38s %14s %16s\n' "openssl speed ecdsap256 (-multi $THREADS)" "$OSSL_MULTI" "1.00"
printf '%-38s %14s %16s\n' "openssl speed ecdsap256 (1 process)" "$OSSL_ONE" "$(awk -v a="$OSSL_ONE" -v b="$OSSL_MULTI" 'BEGIN{printf "%.2f", a/b}')"
printf '%-38s %14s %16s\n' "openssl verify ecdsap256 (-multi $THREADS)" "$OSSL_VERIFY" "-"
SV=$(awk -v s="$OSSL_MULTI" -v v="$OSSL_VERIFY" 'BEGIN{printf "%.0f", 1/(1/s+1/v)}')
printf '%-38s %14s %16s\n' "openssl bound: 1 verify + 1 sign" "$SV" "$(awk -v a="$SV" -v b="$OSSL_MULTI" 'BEGIN{printf "%.2f", a/b}')"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
IFS=$'\n'
for row in "JDK:$JDK" "Conscrypt:$CONSCRYPT" ${BEFORE:+"Conscrypt before ($BASELINE_REF):$BEFORE"}; do
  name=${row%%:*}; line=${row#*:}
  s=$(field "$line" svids_per_s); r=$(field "$line" raw_signs_per_s); i=$(field "$line" issue_only_per_s); v=$(field "$line" raw_verifies_per_s)
  printf '%-38s %14s %16s\n' "$name raw ECDSA P-256 signs" "$r" "$(ratio "$r" "$OSSL_MULTI")"
  if [ -n "$v" ]; then printf '%-38s %14s %16s\n' "$name raw ECDSA P-256 verifies" "$v" "-"; fi
  printf '%-38s %14s %16s\n' "$name X.509-SVID issue (no CSR check)" "$i" "$(ratio "$i" "$OSSL_MULTI")"
  printf '%-38s %14s %16s   (%s of the openssl verify+sign bound)\n' "$name CSR -> X.509-SVID (full path)" "$s" \
    "$(ratio "$s" "$OSSL_MULTI")" "$(ratio "$s" "$SV")"
done
unset IFS
echo
echo "per-stage cost, 1 thread: $STAGES"
