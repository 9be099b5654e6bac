#!/bin/sh
# Packaging: installs rill into a temporary DESTDIR and uses it the ways a user would:
#  - the installed files (header, shared and static libraries, rill.pc, CMake config, the
#    CLI and its man page) are there, and the CLI trains and predicts;
#  - every examples/*.c builds with `pkg-config --cflags --libs rill` alone (programs that
#    include <mpi.h> with mpicc, skipped without it) and the train example runs;
#  - a static link with `pkg-config --static --libs rill` works and needs no librill.so;
#  - a CMake project finds it with find_package(rill) (tests/pkg/cmake), and refuses a
#    request for the next major version;
#  - a meson project uses the source tree as a subproject (tests/pkg/subproject).
set -e
root=$(pwd)
dir=build-install
cc=${CC:-cc}
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --buildtype=release --prefix=/usr -Dtests=false >/dev/null
fi
ninja -C "$dir" -j2 >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/rill-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest="$work/dest"
meson install -C "$dir" --no-rebuild --destdir "$dest" >/dev/null

fail() {
    echo "FAIL: $*"
    exit 1
}
major=$(sed -n 's/^#define RILL_VERSION_MAJOR \([0-9]*\).*/\1/p' include/rill.h)
minor=$(sed -n 's/^#define RILL_VERSION_MINOR \([0-9]*\).*/\1/p' include/rill.h)
pc=$(find "$dest" -name rill.pc)
[ -n "$pc" ] || fail "rill.pc not installed"
libdir=$(dirname "$(dirname "$pc")")
for f in "$dest/usr/include/rill.h" "$dest/usr/bin/rill" "$dest/usr/share/man/man1/rill.1" \
    "$libdir/librill.a" "$libdir/librill.so" "$libdir/librill.so.$major" \
    "$libdir/cmake/rill/rillConfig.cmake" "$libdir/cmake/rill/rillConfigVersion.cmake"; do
    [ -e "$f" ] || fail "${f#"$dest"} not installed"
done
echo "ok: installed header, libraries, rill.pc, CMake config, CLI and man page"
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# The installed CLI.
"$dest/usr/bin/rill" fit examples/data/iris.csv --loss softmax -o "$work/iris.model" >/dev/null ||
    fail "rill fit"
n=$("$dest/usr/bin/rill" predict "$work/iris.model" examples/data/iris.csv | wc -l)
[ "$n" -eq 150 ] || fail "rill predict printed $n lines for 150 rows"
echo "ok: installed rill fit / predict"

# pkg-config, pointed into the DESTDIR.
export PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
[ "$(pkg-config --modversion rill)" = "$major.$minor.$(sed -n 's/^#define RILL_VERSION_PATCH \([0-9]*\).*/\1/p' include/rill.h)" ] ||
    fail "rill.pc version differs from the header"
flags="$(pkg-config --cflags --libs rill)"
mkdir -p "$work/bin"
built=0
for src in examples/*.c; do
    name=$(basename "$src" .c)
    compiler=$cc
    if grep -q '#include <mpi.h>' "$src"; then
        if ! command -v mpicc >/dev/null 2>&1; then
            echo "skip: $src needs MPI (no mpicc)"
            continue
        fi
        compiler=mpicc
    fi
    # -lm: the examples' own use of <math.h>.
    $compiler -std=c99 -Wall -o "$work/bin/$name" "$src" $flags -lm || fail "building $src"
    built=$((built + 1))
done
echo "ok: $built examples built with pkg-config --cflags --libs rill"
"$work/bin/train" examples/data/diabetes.csv examples/data/iris.csv > "$work/train.out" ||
    fail "examples/train did not run"
echo "ok: examples/train ran against the installed library ($(wc -l < "$work/train.out") lines)"

# Static: the archive plus what pkg-config --static lists for it.
static_libs=$(pkg-config --static --libs-only-other --libs-only-L rill)
static_deps=$(pkg-config --static --libs-only-l rill | sed 's/-lrill\b//')
$cc -std=c99 -o "$work/bin/consumer_static" tests/pkg/consumer.c $(pkg-config --cflags rill) \
    $static_libs "$libdir/librill.a" $static_deps || fail "static link"
if command -v readelf >/dev/null && readelf -d "$work/bin/consumer_static" | grep -q 'librill\.so'; then
    fail "the static link still needs librill.so"
fi
"$work/bin/consumer_static" || fail "statically linked consumer"
unset PKG_CONFIG_SYSROOT_DIR

# CMake: find_package(rill major.minor) in config mode.
if command -v cmake >/dev/null 2>&1; then
    cmake -S tests/pkg/cmake -B "$work/cmake" -DCMAKE_PREFIX_PATH="$dest/usr" \
        -DRILL_REQUEST="$major.$minor" >"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "cmake configure"; }
    cmake --build "$work/cmake" -j 2 >>"$work/cmake.log" 2>&1 || { cat "$work/cmake.log"; fail "cmake build"; }
    "$work/cmake/consumer" || fail "CMake consumer (shared)"
    "$work/cmake/consumer_static" || fail "CMake consumer (static)"
    if cmake -S tests/pkg/cmake -B "$work/cmake-next" -DCMAKE_PREFIX_PATH="$dest/usr" \
        -DRILL_REQUEST="$((major + 1)).0" >/dev/null 2>&1; then
        fail "find_package(rill $((major + 1)).0) accepted rill $major.$minor"
    fi
    echo "ok: CMake find_package(rill $major.$minor): rill::rill and rill::rill_static; $((major + 1)).0 refused"
else
    echo "skip: no cmake"
fi

# meson subproject.
mkdir -p "$work/sub/subprojects"
cp tests/pkg/subproject/meson.build tests/pkg/consumer.c "$work/sub/"
ln -s "$root" "$work/sub/subprojects/rill"
meson setup "$work/sub/build" "$work/sub" >"$work/sub.log" 2>&1 || { cat "$work/sub.log"; fail "subproject setup"; }
ninja -C "$work/sub/build" -j2 consumer consumer_var >>"$work/sub.log" 2>&1 || { cat "$work/sub.log"; fail "subproject build"; }
"$work/sub/build/consumer" || fail "subproject consumer (dependency('rill'))"
"$work/sub/build/consumer_var" || fail "subproject consumer (rill_dep)"
echo "ok: meson subproject: dependency('rill') and rill_dep"
