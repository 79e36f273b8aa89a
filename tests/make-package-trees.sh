#!/bin/bash
# Builds tiny packages with the real package managers and installs them
# into trees, as a guest's root would hold them: side A, and side B where
# packages were upgraded, downgraded, added and removed and files were
# edited behind the package manager's back. No appliance, no image: the
# unit tests read the trees directly, tests/fixtures.sh puts them in
# images.
#
#   make-package-trees.sh OUT [dpkg|rpm]...   (both when none is named)
#
# Makes OUT/dpkg-a, OUT/dpkg-b (dpkg-deb --build, dpkg --root) and
# OUT/rpm-a, OUT/rpm-b (rpmbuild, rpm --root; sqlite database), and
# OUT/rpm-a-bdb: rpm-a with its database in the Berkeley DB form (rpmdb
# --exportdb into db_load), which librpm reads with bdb_ro.
#
# Packages (dpkg names Architecture amd64/all, rpm x86_64/noarch):
#   vd-base   1.0-1 -> 1.1-1  upgraded: vd-base and libvd.so.1 change, README
#                             keeps its content, /etc/vd/base.conf (conffile)
#                             keeps its content
#   vd-old    1.0-1 -> gone   removed (purged)
#   vd-new    gone  -> 1.0-1  added
#   vd-down   2.0-1 -> 1.9-1  downgraded
#   vd-epoch  2.0-1 -> 1:1.0-1 upgraded (the epoch wins)
#   vd-tilde  1.0~rc1-1 -> 1.0-1 upgraded (~ sorts first)
#   vd-same   1.0-1 both      unchanged (rpm: md5 file digests), but on B: /usr/bin/vd-same rewritten
#                             with its size and mtime kept (tampered),
#                             /usr/lib/vd/same.dat deleted (tampered),
#                             /etc/vd/same.conf (conffile) edited (config)
# Unowned on B: /var/log/vd.log added, /etc/vd/local.conf added.
set -euo pipefail

OUT=${1:?usage: make-package-trees.sh OUT [dpkg|rpm]...}
shift
formats=("$@")
[ ${#formats[@]} -gt 0 ] || formats=(dpkg rpm)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d "$OUT/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export LC_ALL=C SOURCE_DATE_EPOCH=1700000000
umask 022

T1=1700000000 # every file of a first version
T2=1700100000 # every file of a second version
T3=1700200000 # edits on side B

# stage NAME VERSION ARCH: a staging tree of the package's files in
# $WORK/stage/NAME-VERSION, its conffiles listed in .conffiles.
stage() {
        local name=$1 version=$2 s=$WORK/stage/$1-$2 t=$T1
        case $name-$version in vd-base-1.1-1 | vd-down-1.9-1 | vd-epoch-1:1.0-1 | vd-tilde-1.0-1 | vd-new-1.0-1) t=$T2 ;; esac
        rm -rf "$s"
        mkdir -p "$s/usr/bin"
        case $name in
        vd-base)
                mkdir -p "$s/usr/lib/vd" "$s/usr/share/doc/vd-base" "$s/etc/vd"
                printf '#!/bin/sh\necho vd-base %s\n' "$version" >"$s/usr/bin/vd-base"
                echo "libvd $version" >"$s/usr/lib/vd/libvd.so.1"
                echo "vd-base documentation" >"$s/usr/share/doc/vd-base/README"
                echo "setting = 1" >"$s/etc/vd/base.conf"
                echo /etc/vd/base.conf >"$s/.conffiles"
                ;;
        vd-same)
                mkdir -p "$s/usr/lib/vd" "$s/etc/vd"
                echo "same-original" >"$s/usr/bin/vd-same"
                echo "same data" >"$s/usr/lib/vd/same.dat"
                echo "same = yes" >"$s/etc/vd/same.conf"
                echo /etc/vd/same.conf >"$s/.conffiles"
                ;;
        *)
                printf '#!/bin/sh\necho %s %s\n' "$name" "$version" >"$s/usr/bin/$name"
                ;;
        esac
        chmod 0755 "$s/usr/bin/"*
        find "$s" -exec touch -h -d "@$t" {} +
}

arch_of() { # NAME dpkg|rpm
        if [ "$1" = vd-base ]; then
                [ "$2" = dpkg ] && echo amd64 || echo x86_64
        else
                [ "$2" = dpkg ] && echo all || echo noarch
        fi
}

# -------------------------------------------------------------- dpkg ----

build_dpkg() { # NAME VERSION
        local s=$WORK/stage/$1-$2 d=$WORK/deb/$1-$2
        rm -rf "$d"
        mkdir -p "$d"
        cp -a "$s/." "$d/"
        rm -f "$d/.conffiles"
        mkdir -p "$d/DEBIAN"
        cat >"$d/DEBIAN/control" <<-EOF
	Package: $1
	Version: $2
	Architecture: $(arch_of "$1" dpkg)
	Maintainer: virt-diffd tests <tests@virt-diffd.invalid>
	Description: virt-diffd test package $1
	 A package made by tests/make-package-trees.sh.
	EOF
        [ -e "$s/.conffiles" ] && cp "$s/.conffiles" "$d/DEBIAN/conffiles"
        dpkg-deb --root-owner-group -Zgzip --build "$d" "$WORK/deb/$1_$2.deb" >/dev/null
}

dpkg_root() { # ROOT ARGS...
        local root=$1
        shift
        dpkg --root="$root" --log=/dev/null --force-architecture --force-downgrade "$@" >/dev/null 2>&1 ||
                dpkg --root="$root" --log=/dev/null --force-architecture --force-downgrade "$@"
}

make_dpkg() {
        local a=$OUT/dpkg-a b=$OUT/dpkg-b
        rm -rf "$a" "$b"
        mkdir -p "$a/var/lib/dpkg/info" "$a/var/lib/dpkg/updates" "$a/var/log"
        : >"$a/var/lib/dpkg/status"
        # dpkg on the host knows amd64; the guest's own arch file.
        echo amd64 >"$a/var/lib/dpkg/arch"
        dpkg_root "$a" -i "$WORK"/deb/{vd-base_1.0-1,vd-old_1.0-1,vd-down_2.0-1,vd-epoch_2.0-1,vd-tilde_1.0~rc1-1,vd-same_1.0-1}.deb
        # dpkg stamps its database with the time it runs. Both sides made in
        # the same second (a fast machine) would show no time change where a
        # slower one does: the first install's database is given T1, and
        # what the second side's runs of dpkg write, T2.
        find "$a/var/lib/dpkg" -exec touch -h -d "@$T1" {} +

        cp -a "$a" "$b"
        touch "$WORK/dpkg-b.stamp"
        dpkg_root "$b" -i "$WORK"/deb/{vd-base_1.1-1,vd-down_1.9-1,vd-epoch_1:1.0-1,vd-tilde_1.0-1,vd-new_1.0-1}.deb
        dpkg_root "$b" --purge vd-old
        find "$b/var/lib/dpkg" -newer "$WORK/dpkg-b.stamp" -exec touch -h -d "@$T2" {} +
        edit_b "$b"
}

# --------------------------------------------------------------- rpm ----

RPM_DEFS=(--define "_dbpath /var/lib/rpm" --define "_db_backend sqlite")

build_rpm() { # NAME VERSION
        local name=$1 version=$2 s=$WORK/stage/$1-$2 top=$WORK/rpmbuild
        local epoch='' v=${2%-*} release=${2##*-}
        if [[ $v == *:* ]]; then
                epoch="Epoch: ${v%%:*}"
                v=${v#*:}
        fi
        mkdir -p "$top/SPECS"
        {
                echo "Name: $name"
                echo "Version: $v"
                echo "Release: $release"
                [ -z "$epoch" ] || echo "$epoch"
                echo "Summary: virt-diffd test package $name"
                echo "License: MIT"
                [ "$(arch_of "$name" rpm)" = noarch ] && echo "BuildArch: noarch"
                echo "%description"
                echo "A package made by tests/make-package-trees.sh."
                echo "%install"
                echo "cp -a $s/. %{buildroot}/"
                echo "rm -f %{buildroot}/.conffiles"
                echo "%files"
                (cd "$s" && find . -mindepth 1 -type d -path './usr/lib/vd' -o -type d -path './etc/vd' -o \
                        -type d -path './usr/share/doc/vd-base') | sed 's|^\.|%dir |'
                (cd "$s" && find . -type f ! -name .conffiles) | sed 's|^\.||' | while read -r f; do
                        if [ -e "$s/.conffiles" ] && grep -qx "$f" "$s/.conffiles"; then
                                echo "%config(noreplace) $f"
                        else
                                echo "$f"
                        fi
                done
        } >"$top/SPECS/$name-$2.spec"
        # vd-same records md5 digests (as rpm did before 4.6 and as
        # RHEL 5 guests still have): verifying it needs measured digests.
        local algo=8
        [ "$name" = vd-same ] && algo=1
        rpmbuild --quiet --define "_topdir $top" --define '__os_install_post %{nil}' \
                --define "_binary_filedigest_algorithm $algo" \
                --define '_build_id_links none' --define 'debug_package %{nil}' \
                --define "_rpmdir $WORK/rpm" --define '_rpmfilename %{NAME}-%{EVR}.%{ARCH}.rpm' \
                --target "$(arch_of "$name" rpm)" -bb "$top/SPECS/$name-$2.spec" >/dev/null 2>&1 ||
                rpmbuild --define "_topdir $top" --define "_rpmdir $WORK/rpm" \
                        --target "$(arch_of "$name" rpm)" -bb "$top/SPECS/$name-$2.spec"
}

rpm_file() { # NAME VERSION
        echo "$WORK/rpm/$1-$2.$(arch_of "$1" rpm).rpm"
}

rpm_root() { # ROOT ARGS...
        local root=$1
        shift
        local op=$1
        shift
        case $op in
        -e) rpm --force-debian --root "$root" "${RPM_DEFS[@]}" --nodeps --noscripts -e "$@" ;;
        *) rpm --force-debian --root "$root" "${RPM_DEFS[@]}" --nodeps --noscripts --nosignature --ignorearch \
                "$op" "$@" ;;
        esac
}

make_rpm() {
        local a=$OUT/rpm-a b=$OUT/rpm-b
        rm -rf "$a" "$b" "$OUT/rpm-a-bdb"
        mkdir -p "$a/var/lib/rpm" "$a/var/log"
        rpm_root "$a" -i $(for p in vd-base:1.0-1 vd-old:1.0-1 vd-down:2.0-1 vd-epoch:2.0-1 \
                vd-tilde:1.0~rc1-1 vd-same:1.0-1; do rpm_file "${p%%:*}" "${p#*:}"; done)

        cp -a "$a" "$b"
        rpm_root "$b" -U --oldpackage $(for p in vd-base:1.1-1 vd-down:1.9-1 vd-epoch:1:1.0-1 \
                vd-tilde:1.0-1; do rpm_file "${p%%:*}" "${p#*:}"; done)
        rpm_root "$b" -i "$(rpm_file vd-new 1.0-1)"
        rpm_root "$b" -e vd-old
        edit_b "$b"
        make_bdb "$a" "$OUT/rpm-a-bdb"
}

# The same packages in a Berkeley DB "Packages" hash file: key the header
# number (32 bits, host order), value the header blob.
make_bdb() { # FROM TO
        cp -a "$1" "$2"
        rm -f "$2"/var/lib/rpm/rpmdb.sqlite*
        rpm --force-debian --root "$1" "${RPM_DEFS[@]}" -qa --qf '%{NAME}\n' >/dev/null
        rpmdb --root "$1" "${RPM_DEFS[@]}" --exportdb >"$WORK/headers"
        python3 - "$WORK/headers" "$WORK/dump" <<-'EOF'
	import struct, sys
	data = open(sys.argv[1], "rb").read()
	out = ["VERSION=3", "format=bytevalue", "type=hash", "db_pagesize=4096", "HEADER=END"]
	pos, n = 0, 0
	while pos < len(data):
	    assert data[pos:pos + 3] == b"\x8e\xad\xe8", "not a header"
	    il, dl = struct.unpack(">II", data[pos + 8:pos + 16])
	    blob = data[pos + 8:pos + 16 + 16 * il + dl]
	    pos += 16 + 16 * il + dl
	    n += 1
	    out.append(" " + struct.pack("<I", n).hex())
	    out.append(" " + blob.hex())
	out.append("DATA=END")
	open(sys.argv[2], "w").write("\n".join(out) + "\n")
	EOF
        db5.3_load -f "$WORK/dump" "$2/var/lib/rpm/Packages"
}

# ------------------------------------------------------------- edits ----

# What happens to side B behind the package manager's back.
edit_b() { # ROOT
        local b=$1 f
        # Same size, same mtime, other content: only a digest shows it.
        f=$b/usr/bin/vd-same
        touch -r "$f" "$WORK/ref"
        printf 'same-TAMPERED\n' >"$f"
        touch -r "$WORK/ref" "$f"
        rm "$b/usr/lib/vd/same.dat"
        echo "same = no" >"$b/etc/vd/same.conf"
        touch -d "@$T3" "$b/etc/vd/same.conf"
        echo "local setting" >"$b/etc/vd/local.conf"
        echo "a log line" >"$b/var/log/vd.log"
        touch -d "@$T3" "$b/etc/vd/local.conf" "$b/var/log/vd.log"
}

# --------------------------------------------------------------- main ----

for p in vd-base:1.0-1 vd-base:1.1-1 vd-old:1.0-1 vd-new:1.0-1 vd-down:2.0-1 vd-down:1.9-1 \
        vd-epoch:2.0-1 vd-epoch:1:1.0-1 vd-tilde:1.0~rc1-1 vd-tilde:1.0-1 vd-same:1.0-1; do
        stage "${p%%:*}" "${p#*:}"
done
for f in "${formats[@]}"; do
        for p in vd-base:1.0-1 vd-base:1.1-1 vd-old:1.0-1 vd-new:1.0-1 vd-down:2.0-1 vd-down:1.9-1 \
                vd-epoch:2.0-1 vd-epoch:1:1.0-1 vd-tilde:1.0~rc1-1 vd-tilde:1.0-1 vd-same:1.0-1; do
                "build_$f" "${p%%:*}" "${p#*:}"
        done
        "make_$f"
done
