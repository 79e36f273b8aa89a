#!/bin/bash
# tools/check-layers on a scratch copy of the tree: it passes on the tree as
# it is, and fails, naming the place, on each kind of include that breaks the
# layers (upward, across daemon and client, without its folder, a circle).
set -euo pipefail
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "not ok - $*"; exit 1; }

fresh() {
        rm -rf "$T/tree"
        mkdir -p "$T/tree/tools"
        cp "$SRCDIR/tools/layers" "$T/tree/tools/"
        (cd "$SRCDIR" && find common daemon client -name '*.[ch]' -print0 | cpio -0pdm --quiet "$T/tree")
}

# expect_fail DESCRIPTION PATTERN: check-layers exits 1 and prints PATTERN.
expect_fail() {
        if "$SRCDIR/tools/check-layers" --root "$T/tree" >"$T/out" 2>&1; then
                fail "$1: check-layers passed"
        fi
        grep -qF -- "$2" "$T/out" || { cat "$T/out"; fail "$1: no line with '$2'"; }
        echo "ok - $1: $(grep -F -- "$2" "$T/out" | head -n1)"
}

fresh
"$SRCDIR/tools/check-layers" --root "$T/tree" || fail "the tree as it is breaks its layers"
echo "ok - the tree as it is"

fresh
sed -i '0,/^#include "/s//#include "bus\/manager.h"\n#include "/' "$T/tree/daemon/store/store.c"
expect_fail "an upward include" 'includes "bus/manager.h": daemon/bus/ is above daemon/store/'

fresh
echo '#include "store/store.h"' >>"$T/tree/daemon/source/disk.h"
expect_fail "two folders including each other" "daemon/source/ and daemon/store/ include each other"

fresh
echo '#include "output/output.h"' >>"$T/tree/daemon/compare/comparer.c"
expect_fail "the daemon using the client" 'includes "output/output.h", which is no header of its tree'

fresh
echo '#include "job/job.h"' >>"$T/tree/client/diff.c"
expect_fail "the client using the daemon" 'includes "job/job.h", which is no header of its tree'

fresh
echo '#include "util.h"' >>"$T/tree/common/log.c"
expect_fail "an include without its folder" 'includes "util.h" without naming its folder'

fresh
echo '#include "client/connect.h"' >>"$T/tree/client/output/output.c"
expect_fail "a writer using the client's commands" 'includes "client/connect.h": client/ is above client/output/'
