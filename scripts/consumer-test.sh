#!/usr/bin/env bash
# A user's project builds against keel's installed artifacts through the BOM (make consumer-test).
# Installs this tree (tests skipped; --no-install reuses what ./mvnw install put in ~/.m2), then
# builds keel-bom/src/test/resources/consumer, a project that imports dev.keel:keel-bom and
# names io-core and zerocopy without versions, offline: its tests run an echo server and a
# file server. Also checks that each library module was installed with its sources jar.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$(pwd)
JAVA_HOME=${JAVA_HOME:-$(scripts/find-jdk.sh)}
export JAVA_HOME
version=$(sed -n '/<artifactId>keel-parent<\/artifactId>/,/<\/version>/s|.*<version>\(.*\)</version>.*|\1|p' pom.xml | head -n 1)
if [ "${1:-}" != "--no-install" ]; then
  ./mvnw -B -q -o --no-transfer-progress -DskipTests -Dcheckstyle.skip install
fi
repo="$HOME/.m2/repository"
[ -f "$repo/dev/keel/keel-bom/$version/keel-bom-$version.pom" ] || { echo "consumer-test: keel-bom $version not installed in $repo" >&2; exit 1; }
for m in ffm-bindings affinity numa io-core zerocopy cli; do
  for jar in "$m-$version.jar" "$m-$version-sources.jar"; do
    [ -f "$repo/dev/keel/$m/$version/$jar" ] || { echo "consumer-test: $jar not installed" >&2; exit 1; }
  done
done
work=$(mktemp -d "${TMPDIR:-/tmp}/keel-consumer.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r keel-bom/src/test/resources/consumer "$work/"
( cd "$work/consumer" && "$here/mvnw" -B -q -o --no-transfer-progress -Dkeel.version="$version" verify ) \
  || { echo "consumer-test: the consumer project failed to build against keel $version" >&2; exit 1; }
run=$(sed -n 's/.*tests="\([0-9]*\)".*failures="0".*/\1/p' "$work"/consumer/target/surefire-reports/TEST-*.xml | head -n 1)
echo "consumer-test: a project importing keel-bom $version built and ran its ${run:-?} tests on io-core and zerocopy"
