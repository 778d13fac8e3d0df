#!/usr/bin/env bash
# Foundation benchmark (not part of the Maven build or CI): AvroSerde vs plain Avro binary, EventPublisher
# vs a raw KafkaProducer<byte[],byte[]> and Kafka's own ProducerPerformance (kafka-producer-perf-test),
# TopicFold replay vs a raw byte-polling consumer — all on one embedded KRaft broker (loopback), one run.
# Usage (from anywhere): services/kit/src/bench/run.sh [flows=200000] [resources=100000] [rounds=2]
# Env: BENCH_SECTIONS=serde,publish,fold (any subset), BENCH_PERFTEST=0 skips kafka-producer-perf-test.
set -euo pipefail
FLOWS=${1:-200000}
RESOURCES=${2:-100000}
ROUNDS=${3:-2}
HERE=$(cd "$(dirname "$0")" && pwd)
MODULE=$(cd "$HERE/../.." && pwd)
ROOT=$(cd "$MODULE/../.." && pwd)
OUT="$MODULE/target/bench"
mkdir -p "$OUT/classes" "$OUT/tmp"

cd "$ROOT"
mvn -B -q -o -pl services/kit compile
mvn -B -q -o -pl services/kit dependency:build-classpath -Dmdep.outputFile="$OUT/cp.txt" >/dev/null
# kafka-tools (ProducerPerformance) only on the peer's classpath, from a bench-only pom (drop -o on first use)
mvn -B -q -o -f "$HERE/tools-pom.xml" dependency:build-classpath -Dmdep.outputFile="$OUT/tools-cp.txt" >/dev/null \
  || mvn -B -q -f "$HERE/tools-pom.xml" dependency:build-classpath -Dmdep.outputFile="$OUT/tools-cp.txt" >/dev/null
# Snapshot the sibling modules' jars: others may re-install them into ~/.m2 while the benchmark runs.
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
java -Xmx1g -XX:+UseParallelGC -Djava.io.tmpdir="$OUT/tmp" \
  -Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.lattice,java.lang,java.util,java.math \
  -Dlogback.configurationFile="$HERE/logback-bench.xml" \
  -cp "$OUT/classes:$CP" dev.lattice.kit.bench.FoundationBenchmark "$FLOWS" "$RESOURCES" "$ROUNDS" \
  "$([ "${BENCH_PERFTEST:-1}" = 0 ] && echo - || cat "$OUT/tools-cp.txt")"
