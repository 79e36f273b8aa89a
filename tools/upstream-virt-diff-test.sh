#!/bin/bash
# Runs libguestfs' own virt-diff test (guestfs-tools' diff/test-virt-diff.sh,
# given as it is) with our virt-diff in the place of theirs: in a directory
# laid out as their source tree expects (diff/, tests/functions.sh,
# test-data/phony-guests/fedora.img), with our phony Fedora guest
# (tests/fixtures-guestfish.sh) as their test guest, and first on PATH a
# virt-diff that runs ours in the compatibility mode (--output=virt-diff).
#
# Usage: tools/upstream-virt-diff-test.sh PATH/TO/test-virt-diff.sh
#
# Their script makes a qcow2 overlay of the guest and changes it with
# guestfish, then compares. Exit status: the script's (0 passed).
# LIBGUESTFS_BACKEND_SETTINGS defaults to force_tcg for their guestfish
# (ours finds out about KVM by itself).
UPSTREAM_SCRIPT=$(realpath "${1:?usage: upstream-virt-diff-test.sh PATH/TO/test-virt-diff.sh}")
BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS-force_tcg} # lib.sh unsets it
source "$(dirname "$0")/../tests/lib.sh"
requires guestfish
ensure_guestfish_fixtures

ROOT=$TEST_TMPDIR/guestfs-tools
mkdir -p "$ROOT/diff" "$ROOT/tests" "$ROOT/test-data/phony-guests" "$ROOT/bin"
cp "$UPSTREAM_SCRIPT" "$ROOT/diff/test-virt-diff.sh"
ln -s "$FIXTURES/fedora.img" "$ROOT/test-data/phony-guests/fedora.img"

# What their scripts use of tests/functions.sh (older ones run
# $TEST_FUNCTIONS instead): where the built tree is, and the skips.
cat >"$ROOT/tests/functions.sh" <<EOF
abs_top_builddir=$ROOT
skip_if_skipped() {
        local v="SKIP_\$(basename "\${1:-\$0}" | tr a-z.- A-Z__)"
        if [ -n "\${!v}" ]; then echo "\$(basename "\$0"): skipped: \$v is set"; exit 77; fi
}
skip_if_backend() {
        [ "\${LIBGUESTFS_BACKEND:-direct}" != "\$1" ] ||
                { echo "\$(basename "\$0"): skipped: backend \$1"; exit 77; }
}
skip_unless_phony_guest() {
        [ -s "\$abs_top_builddir/test-data/phony-guests/\$1" ] ||
                { echo "\$(basename "\$0"): skipped: no \$1"; exit 77; }
}
EOF
export TEST_FUNCTIONS="source $ROOT/tests/functions.sh"

cat >"$ROOT/bin/virt-diff" <<EOF
#!/bin/sh
exec "$VIRT_DIFF" --output=virt-diff "\$@"
EOF
chmod +x "$ROOT/bin/virt-diff"

note "running $UPSTREAM_SCRIPT with $VIRT_DIFF --output=virt-diff as virt-diff"
set +e
(cd "$ROOT/diff" && PATH=$ROOT/bin:$PATH LIBGUESTFS_BACKEND_SETTINGS=$BACKEND_SETTINGS \
        bash ./test-virt-diff.sh)
rc=$?
set -e
if [ "$rc" = 0 ]; then
        pass "$(basename "$UPSTREAM_SCRIPT") passed with our virt-diff"
else
        echo "FAIL: $(basename "$UPSTREAM_SCRIPT") exited with status $rc" >&2
fi
exit "$rc"
