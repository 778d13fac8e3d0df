#!/usr/bin/env bash
# Authorization engine JMH benchmark (not part of the build or CI): the rule index against the linear scan,
# 5 / 50 / 500 applicable policies, ns/op and bytes/op (-prof gc).
# Usage (from the repo root): services/authz/src/bench/run.sh [JMH options, e.g. -p policies=500]
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -q -Pbench test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/bench.classpath 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g'
CP="target/test-classes:target/classes:$(cat target/bench.classpath)"
exec java -cp "$CP" org.openjdk.jmh.Main 'dev.lattice.authz.AuthorizationEngineBenchmark' -prof gc "$@"
