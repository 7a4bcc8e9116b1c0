#!/usr/bin/env bash
# The full test suite: installs what the tests use, builds, type-checks, then runs every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
npm run typecheck
npm test
