#!/usr/bin/env bash
# Telemetry pipeline benchmark (not part of the Maven build or CI): flows/s through the pipeline next to raw
# produce+consume of the same records on the same embedded broker in the same run, and end-to-end lag.
# Usage: telemetry-pipeline/src/bench/run.sh [flows=100000] [lag-rate=2000] [lag-seconds=30]
# Run it under the bench lock: flock /tmp/lattice-bench.lock telemetry-pipeline/src/bench/run.sh
# BENCH_CFG=k=v,k=v adds service settings (kafka.streams.* go to Streams); BENCH_JAVA_OPTS adds JVM flags.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
MODULE=$(cd "$HERE/../.." && pwd)
ROOT=$(cd "$MODULE/.." && pwd)
OUT="$MODULE/target/bench"
mkdir -p "$OUT/classes" "$OUT/tmp"
cd "$ROOT"
mvn -B -q -o -pl telemetry-pipeline compile
# test scope: the embedded broker comes with the testkit
mvn -B -q -o -pl telemetry-pipeline dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/cp.txt" >/dev/null
# Snapshot the sibling modules' jars: others may re-install them while the benchmark runs.
rm -rf "$OUT/lib" && mkdir -p "$OUT/lib"
CP="$MODULE/target/classes"
for jar in $(tr ':' ' ' < "$OUT/cp.txt"); do
  case "$jar" in
    */dev/lattice/*) cp "$jar" "$OUT/lib/" && CP="$CP:$OUT/lib/$(basename "$jar")" ;;
    *) CP="$CP:$jar" ;;
  esac
done
javac -d "$OUT/classes" -cp "$CP" $(find "$HERE/java" -name '*.java')
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "machine: $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB RAM"
echo "jdk: $(java -version 2>&1 | head -1)"
java -Xmx1500m -XX:+UseParallelGC ${BENCH_JAVA_OPTS:-} ${BENCH_CFG:+-Dbench.cfg=$BENCH_CFG} -Djava.io.tmpdir="$OUT/tmp" \
  -Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.lattice,java.lang,java.util,java.math \
  -Dlogback.configurationFile="$HERE/logback-bench.xml" \
  -cp "$OUT/classes:$CP" dev.lattice.telemetry.bench.TelemetryBenchmark "$@"
