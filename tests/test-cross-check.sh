#!/bin/bash
# The two engines on the same fixtures, manifests compared field by field
# (tests/cross-check.c). Two appliance launches.
source "$(dirname "$0")/lib.sh"
requires_root
ensure_fixtures
"$BUILDDIR/tests/cross-check" "$FIXTURES" || fail "the engines disagree (see above)"
