#!/bin/bash
# The test command: installs what is missing, builds, runs every test, then
# the unit tests again under ASan+UBSan and in an -O3 -DNDEBUG build, and
# the fuzz targets for a few seconds each (tools/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
status=0
meson test -C build --print-errorlogs --no-suite slow "$@" || status=$?
cp build/meson-logs/testlog.json build/testlog-main.json

for variant in asan ndebug; do
    dir=build-$variant
    if [ ! -f $dir/build.ninja ]; then
        case $variant in
        asan) meson setup $dir -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null ;;
        ndebug) meson setup $dir -Dwerror=true -Dbuildtype=release -Doptimization=3 -Db_ndebug=true >/dev/null ;;
        esac
    fi
    ninja -C $dir >/dev/null
    meson test -C $dir --suite unit --print-errorlogs || status=$?
done

# Every parser of untrusted bytes, fuzzed briefly (10 s a target; longer
# runs: tools/fuzz.sh SECONDS).
tools/fuzz.sh 10 || status=$?

# One plain closing line, whatever the runners print above it.
/usr/bin/python3 - build/testlog-main.json build-asan/meson-logs/testlog.json build-ndebug/meson-logs/testlog.json <<'PY'
import json, sys
counts = {"passed": 0, "failed": 0, "skipped": 0}
for path in sys.argv[1:]:
    for line in open(path):
        r = json.loads(line)["result"]
        key = "passed" if r in ("OK", "EXPECTEDFAIL") else "skipped" if r == "SKIP" else "failed"
        counts[key] += 1
print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
PY
exit $status
