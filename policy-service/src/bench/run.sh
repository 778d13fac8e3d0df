#!/usr/bin/env bash
# Policy-compiler benchmark (not part of the Maven build or CI).
# Usage (from the repo root): policy-service/src/bench/run.sh [services...]   e.g. run.sh 1000 10000
# Compiles src/bench/java against the module's main and test classes (MeshFixtures) and runs
# CompilerBenchmark in its own JVM.
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -o test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
CP="target/classes:target/test-classes:$(cat target/bench.classpath)"
mkdir -p target/bench-classes
javac -d target/bench-classes -cp "$CP" $(find src/bench/java -name '*.java')
exec java -Xmx3g -XX:+UseParallelGC \
  -Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.lattice,java.lang,java.util,java.math \
  -Djava.io.tmpdir=target -Dlogback.configurationFile=src/bench/logback-bench.xml \
  -cp "target/bench-classes:$CP" dev.lattice.policy.compiler.CompilerBenchmark "$@"
