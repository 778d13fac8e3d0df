#!/usr/bin/env bash
# CSR -> X.509-SVID signing throughput of the Lattice CA (JDK provider vs Conscrypt) next to
# `openssl speed ecdsap256`, measured in the same run on the same cores. Not part of CI.
# Usage: identity-service/src/bench/run.sh [threads=2] [seconds=5]
set -euo pipefail
THREADS=${1:-2}
SECONDS_PER_RUN=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
MODULE=$(cd "$HERE/../.." && pwd)
ROOT=$(cd "$MODULE/.." && pwd)
OUT="$MODULE/target/bench"
mkdir -p "$OUT/classes"

cd "$ROOT"
mvn -B -q -o -pl identity-service compile
mvn -B -q -o -pl identity-service dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$OUT/cp.txt" >/dev/null
CP="$MODULE/target/classes:$(cat "$OUT/cp.txt")"
javac -d "$OUT/classes" -cp "$CP" $(find "$HERE/java/dev/lattice/identity/bench" -name '*.java')

JAVA_OPTS="-Xmx512m -XX:+UseParallelGC -Dorg.slf4j.simpleLogger.defaultLogLevel=warn"
run_java() { java $JAVA_OPTS -cp "$OUT/classes:$CP" dev.lattice.identity.bench.SigningBenchmark "$1" "$THREADS" "$SECONDS_PER_RUN" 2>/dev/null | grep '^RESULT'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(java -version 2>&1 | head -1)"
echo "openssl: $(openssl version)"
openssl_rate() { # "sign/s verify/s" of the 256-bit ecdsa (nistp256) line
  openssl speed $1 -seconds "$SECONDS_PER_RUN" ecdsap256 2>/dev/null | awk '/256 bits ecdsa \(nistp256\)/ {print $(NF-1), $NF}'
}
OSSL_MULTI_BOTH=$(openssl_rate "-multi $THREADS")
OSSL_MULTI=${OSSL_MULTI_BOTH% *}
OSSL_VERIFY=${OSSL_MULTI_BOTH#* }
JDK=$(run_java jdk)
CONSCRYPT=$(run_java conscrypt)
OSSL_ONE_BOTH=$(openssl_rate "")
OSSL_ONE=${OSSL_ONE_BOTH% *}

field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k {print $2}'; }
printf '\n%-38s %14s %16s\n' "what ($THREADS threads/processes)" "per second" "vs openssl -multi"
printf '%-38s %14s %16s\n' "openssl speed ecdsap256 (-multi $THREADS)" "$OSSL_MULTI" "1.00"
printf '%-38s %14s %16s\n' "openssl speed ecdsap256 (1 process)" "$OSSL_ONE" "$(awk -v a="$OSSL_ONE" -v b="$OSSL_MULTI" 'BEGIN{printf "%.2f", a/b}')"
printf '%-38s %14s %16s\n' "openssl verify ecdsap256 (-multi $THREADS)" "$OSSL_VERIFY" "-"
SV=$(awk -v s="$OSSL_MULTI" -v v="$OSSL_VERIFY" 'BEGIN{printf "%.0f", 1/(1/s+1/v)}')
printf '%-38s %14s %16s\n' "openssl bound: 1 verify + 1 sign" "$SV" "$(awk -v a="$SV" -v b="$OSSL_MULTI" 'BEGIN{printf "%.2f", a/b}')"
for row in "JDK:$JDK" "Conscrypt:$CONSCRYPT"; do
  name=${row%%:*}; line=${row#*:}
  s=$(field "$line" svids_per_s); r=$(field "$line" raw_signs_per_s); i=$(field "$line" issue_only_per_s)
  printf '%-38s %14s %16s\n' "$name raw ECDSA P-256 signs" "$r" "$(awk -v a="$r" -v b="$OSSL_MULTI" 'BEGIN{printf "%.2f", a/b}')"
  printf '%-38s %14s %16s\n' "$name X.509-SVID issue (no CSR check)" "$i" "$(awk -v a="$i" -v b="$OSSL_MULTI" 'BEGIN{printf "%.2f", a/b}')"
  printf '%-38s %14s %16s\n' "$name CSR -> X.509-SVID (full path)" "$s" "$(awk -v a="$s" -v b="$OSSL_MULTI" 'BEGIN{printf "%.2f", a/b}')"
done
