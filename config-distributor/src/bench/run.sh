#!/usr/bin/env bash
# Config-distributor convergence benchmark (issue 8; not part of the Maven build or CI).
# Usage (from anywhere): config-distributor/src/bench/run.sh [nodes=500] [services=5000] [perNode=20] [trials=10] [burst=1000]
# (after `mvn -o install -DskipTests` of the tree)
# Needs `mvn install -DskipTests` of the tree first (offline). Compiles src/bench/java against the module's main and
# test classpath and runs ConvergenceBenchmark: an embedded broker and the simulated proxies (real ConfigClients,
# mTLS) in one JVM; the policy service (REST + compiler) and the distributor in child JVMs. Run it under
# flock /tmp/lattice-bench.lock on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -o test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath
(cd ../policy-service && mvn -B -q -o compile dependency:build-classpath -Dmdep.includeScope=runtime \
  -Dmdep.outputFile=target/bench-runtime.classpath)
CP="target/classes:target/test-classes:$(cat target/bench.classpath)"
POLICY_CP="$PWD/../policy-service/target/classes:$(cat ../policy-service/target/bench-runtime.classpath)"
mkdir -p target/bench-classes target/bench-tmp
javac -d target/bench-classes -cp "$CP" $(find src/bench/java -name '*.java')
# BENCH_JAVA_OPTS e.g. '-Dbench.policy.args=--kafka.streams.commit.interval.ms=20 -Dbench.distributor.args=--distributor.debounce=0ms'
exec java -Xmx2g ${BENCH_JAVA_OPTS:-} \
  -Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.lattice,java.lang,java.util,java.math \
  -Dbench.policy.classpath="$PWD/target/bench-classes:$POLICY_CP" \
  -Djava.io.tmpdir=target/bench-tmp -Dlogback.configurationFile="$PWD/src/bench/logback-bench.xml" \
  -cp "target/bench-classes:$CP" dev.lattice.distributor.ConvergenceBenchmark "$@"
