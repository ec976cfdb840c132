#!/usr/bin/env bash
# Runs every *.test.ts under src/ and test/ with Node's test runner (Node 20's --test does
# not expand globs itself). Extra arguments go to node, e.g. --test-name-pattern.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
exec node --no-warnings --import tsx --test --test-concurrency=2 --test-timeout=600000 "$@" "${files[@]}"
