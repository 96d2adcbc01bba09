#!/usr/bin/env bash
# Rewrites docs/api-reference.md from the OpenAPI document the control plane serves
# (adapter-http-sparkjava/src/main/resources/dev/fleet/migration/http/openapi.json).
# ApiReferenceTest fails the build when the two differ.
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -ntp -pl adapter-http-sparkjava test -Dtest=ApiReferenceTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dapi.reference.write=true
echo "written: docs/api-reference.md"
