#!/bin/bash
# The documentation follows the programs: every option --help lists is in
# the man page and every option the man page documents is in --help; every
# virt-diffctl command is documented; the bash completion (which reads
# --help) completes options, values and commands. No appliance, no bus.
set -euo pipefail
BUILD=${BUILDDIR:?} SRC=${SRCDIR:?}
fail() { echo "FAIL: test-docs: $*" >&2; exit 1; }

long_options_help() { # PROGRAM [COMMAND]
        "$@" --help | grep -oE -- '--[a-z][-a-z]*' | sort -u
}
long_options_man() { # PAGE
        # Option headings: lines after .TP naming \-\-options.
        awk 'prev == ".TP" { print } { prev = $0 }' "$1" | grep -oE -- '\\-\\-[a-z][-a-z\\]*' |
                sed 's/\\//g' | sort -u
}

same_options() { # PROGRAM PAGE SECTION
        local help man missing extra
        help=$(long_options_help "$BUILD/$1")
        man=$(long_options_man "$SRC/docs/$2")
        missing=$(comm -23 <(echo "$help") <(echo "$man"))
        extra=$(comm -13 <(echo "$help") <(echo "$man"))
        [ -z "$missing" ] || fail "in $1 --help but not in $1($3): $missing"
        [ -z "$extra" ] || fail "in $1($3) but not in $1 --help: $extra"
        echo "ok - $1 --help and $1($3) document the same $(echo "$help" | wc -l) long options"
}
same_options virt-diff virt-diff.1 1

for cmd in $("$BUILD/virt-diffctl" --help | sed -nE 's/^  ([a-z][-a-z]*).*/\1/p'); do
        grep -qE "^\.(B|BR|TP|SS) .*\b$cmd\b|^\.B $cmd|^\\\\fB$cmd" "$SRC/docs/virt-diffctl.1" ||
                grep -qF "$cmd" <(grep -A1 '^\.TP' "$SRC/docs/virt-diffctl.1") ||
                fail "virt-diffctl command '$cmd' is not in virt-diffctl(1)"
done
echo "ok - every virt-diffctl command is in virt-diffctl(1)"

bash -n "$SRC/client/virt-diff.bash-completion" || fail "the completion does not parse"
complete_words() { # WORDS...
        PATH=$BUILD:$PATH bash -c '
                source "$0"
                COMP_WORDS=("${@}"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
                case ${COMP_WORDS[0]} in virt-diff) _virt_diff ;; *) _virt_diffctl ;; esac
                printf "%s\n" "${COMPREPLY[@]}"' "$SRC/client/virt-diff.bash-completion" "$@"
}
[ "$(complete_words virt-diff --human)" = "--human-readable" ] || fail "virt-diff --human does not complete"
[ "$(complete_words virt-diff --output=vi)" = "--output=virt-diff" ] || fail "--output=vi does not complete"
[ "$(complete_words virt-diff --output=m)" = "--output=markdown" ] || fail "--output=m does not complete"
[ "$(complete_words virt-diff --max)" = "--max-bytes=" ] || fail "--max does not complete"
[ "$(complete_words virt-diff --ignore xa)" = "$(printf 'xattrs\nxattr:')" ] || fail "--ignore xa does not complete"
[ "$(complete_words virt-diff --blocksize=4)" = "--blocksize=4096" ] || fail "--blocksize=4 does not complete"
[ "$(complete_words virt-diff --checksums=m)" = "--checksums=md5" ] || fail "--checksums=m does not complete"
[ "$(complete_words virt-diff --no-u)" = "--no-unified" ] || fail "virt-diff --no-u does not complete"
# What libguestfs tools' bash completion asks a tool named virt-diff.
long=$("$BUILD/virt-diff" --long-options)
short=$("$BUILD/virt-diff" --short-options)
grep -qx -- --dir-nlinks <<<"$long" && grep -qx -- --blocksize <<<"$long" && grep -qx -- --csv <<<"$long" ||
        fail "--long-options: $long"
! grep -q -- '-options$' <<<"$long" || fail "--long-options lists itself"
[ "$(echo $short)" = "-a -A -d -D -c -l -m -t -u -q -v -x -V -h" ] || fail "--short-options: $(echo $short)"
[ "$(complete_words virt-diff --engine=di)" = "--engine=direct" ] || fail "--engine=di does not complete"
[ "$(complete_words virt-diffctl ca)" = "cache" ] || fail "virt-diffctl ca does not complete"
[ "$(complete_words virt-diffctl diff --uni)" = "--unified" ] || fail "virt-diffctl diff --uni does not complete"
[ "$(complete_words virt-diffctl cache pu)" = "purge" ] || fail "virt-diffctl cache pu does not complete"
[ "$(complete_words virt-diffctl manifest --output=mt)" = "--output=mtree" ] ||
        fail "virt-diffctl manifest --output=mt does not complete"
[ "$(complete_words virt-diff --manifest-)" = "$(printf -- '--manifest-a\n--manifest-b')" ] ||
        fail "virt-diff --manifest- does not complete"
echo "ok - bash completion of options, option values and commands"

same_options virt-diffd virt-diffd.8 8

# Every limit of common/input-limits.h is in virt-diffd(8)'s LIMITS section, with
# its value.
limits=$(sed -n '/^\.SH LIMITS/,/^\.SH /p' "$SRC/docs/virt-diffd.8")
while read -r name value; do
        grep -qw -- "$value" <<<"$limits" || fail "limit $name ($value) is not in virt-diffd(8)'s LIMITS"
done < <(sed -nE 's/^#define (MAX_[A-Z_]+) ([0-9]+)$/\1 \2/p' "$SRC/common/input-limits.h")
n=$(grep -c '^#define MAX_' "$SRC/common/input-limits.h")
[ "$n" -ge 9 ] || fail "only $n limits found in input-limits.h"
echo "ok - the $n limits of common/input-limits.h are in virt-diffd(8)"

# The D-Bus interface file is XML that parses (a "--" in one of its
# comments, an option's name say, makes it ill-formed; test-introspect then
# fails only after a daemon is up).
for xml in "$SRC"/dbus/*.xml; do
        xmllint --noout "$xml" || fail "$xml is not well-formed XML"
done
echo "ok - the D-Bus interface files are well-formed XML"
