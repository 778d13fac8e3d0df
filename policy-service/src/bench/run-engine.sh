#!/usr/bin/env bash
# Authorization-engine benchmark (not part of the Maven build or CI): ns and bytes per evaluate().
# Usage (from the repo root): policy-service/src/bench/run-engine.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -o compile dependency:build-classpath -Dmdep.outputFile=target/bench-engine.classpath
CP="target/classes:$(cat target/bench-engine.classpath)"
mkdir -p target/bench-engine-classes
javac -d target/bench-engine-classes -cp "$CP" src/bench/java/dev/lattice/policy/engine/*.java
exec java -Xmx512m -XX:+UseSerialGC -Dlogback.configurationFile=src/bench/logback-bench.xml \
  -cp "target/bench-engine-classes:$CP" dev.lattice.policy.engine.AuthorizationEngineBenchmark "$@"
