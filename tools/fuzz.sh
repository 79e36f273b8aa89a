#!/bin/bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan into
# build-fuzz/, then runs each for SECONDS (default 25) on its seed corpus
# (fuzz/corpus/TARGET, plus fuzz/corpus/output for every target that
# renders). A crash, leak or failed assertion fails the run and leaves the
# input in build-fuzz/artifacts/.
#   tools/fuzz.sh [SECONDS]   build and run every target
#   tools/fuzz.sh --seeds     regenerate the committed generated seeds
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build-fuzz
if [ ! -f $dir/build.ninja ]; then
        # Warnings as errors is the gcc build's gate: clang's set differs.
        CC=clang meson setup $dir -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
                -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C $dir >$dir/ninja.log || { tail -n 40 $dir/ninja.log >&2; exit 1; }

if [ "${1:-}" = --seeds ]; then
        $dir/fuzz/seed-gen fuzz/corpus
        bash fuzz/direct-seeds.sh fuzz/corpus/direct
        exit 0
fi
seconds=${1:-25}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
mkdir -p $dir/artifacts
status=0
for target in manifest-wire manifest-json qcow2-header store options varlink deb822 packages-wire direct job-record change-stream tree-order; do
        work=$dir/corpus-$target
        rm -rf "$work"
        mkdir -p "$work"
        # New inputs go to the first directory, never into the committed seeds.
        if ! $dir/fuzz/fuzz-$target -max_total_time="$seconds" -seed=1 -timeout=10 -rss_limit_mb=2048 \
                -artifact_prefix=$dir/artifacts/$target- -print_final_stats=1 \
                "$work" "fuzz/corpus/$target" >$dir/fuzz-$target.log 2>&1; then
                echo "FAIL: fuzz-$target: see $dir/fuzz-$target.log and $dir/artifacts/" >&2
                tail -n 30 $dir/fuzz-$target.log >&2
                status=1
                continue
        fi
        runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' $dir/fuzz-$target.log)
        echo "ok - fuzz-$target: ${runs:-?} inputs in ${seconds} s, no crash"
done
exit $status
