#!/bin/sh
# The build the Dockerfile and a distribution package make: release (with _FORTIFY_SOURCE), /usr prefix,
# no tests, warnings are errors; installed into a scratch DESTDIR, whose files are then checked: the
# binaries run, the configuration they install passes --check-config, the unit points at installed docs.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build-release}
case "$dir" in /*) ;; *) dir="$(pwd)/$dir" ;; esac
root="$dir-root"
rm -rf "$dir" "$root"
meson setup "$dir" --buildtype=release --prefix=/usr --sysconfdir=/etc --localstatedir=/var \
        -Dtests=false --werror >"$dir.log" 2>&1 || { tail -30 "$dir.log"; exit 1; }
ninja -C "$dir" >>"$dir.log" 2>&1 || { tail -30 "$dir.log"; exit 1; }
DESTDIR="$root" meson install -C "$dir" --no-rebuild >>"$dir.log" 2>&1
for f in usr/bin/meshprovd usr/bin/meshprovctl etc/meshprovd/meshprovd.conf \
        usr/lib/systemd/system/meshprovd.service usr/lib/sysusers.d/meshprov.conf \
        usr/share/doc/meshprov/README.md; do
        [ -e "$root/$f" ] || { echo "release build: $f not installed" >&2; exit 1; }
done
for d in $(sed -n 's/^Documentation=//p' "$root/usr/lib/systemd/system/meshprovd.service"); do
        [ -e "$root${d#file:}" ] || { echo "release build: unit documentation $d not installed" >&2; exit 1; }
done
"$root/usr/bin/meshprovd" --version >/dev/null
"$root/usr/bin/meshprovctl" --help >/dev/null
MESHPROV_DB=/nonexistent/meshprov.db "$root/usr/bin/meshprovd" --check-config \
        --config "$root/etc/meshprovd/meshprovd.conf" >/dev/null
echo "release build: ok"
