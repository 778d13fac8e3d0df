#!/usr/bin/env bash
# Workload API latency benchmark (not part of the build or CI). From the repository root:
#   identity-service/src/bench/run-workload-api-bench.sh
# Needs the module built with its tests compiled: mvn -B -q -o -pl identity-service test-compile
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -o dependency:build-classpath -Dmdep.outputFile=target/bench.cp -Dmdep.includeScope=test >/dev/null
CP="target/classes:target/test-classes:$(cat target/bench.cp)"
rm -rf target/bench-classes && mkdir -p target/bench-classes
javac -d target/bench-classes -cp "$CP" $(find src/bench/java -name '*.java')
exec java -Xmx512m -XX:+UseSerialGC -Djava.io.tmpdir=target \
  -Dlogback.configurationFile=src/bench/logback-bench.xml \
  -cp "target/bench-classes:$CP" dev.lattice.identity.agent.WorkloadApiLatencyBench "$@"
