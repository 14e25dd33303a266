#!/usr/bin/env bash
# Installs the C/C++ library of auditwire: shared library (versioned soname) and static
# library, include/auditwire.h, a pkg-config file and a CMake package (auditwire::auditwire).
#
#   scripts/install-c.sh PREFIX                 # builds release, installs under PREFIX
#   scripts/install-c.sh PREFIX --profile debug  # uses the debug build instead
#   scripts/install-c.sh PREFIX --no-build       # installs what target/<profile> already holds
#
# Then: pkg-config --cflags --libs auditwire   (with PKG_CONFIG_PATH=PREFIX/lib/pkgconfig)
#       find_package(auditwire) + target_link_libraries(app auditwire::auditwire)
#                                               (with CMAKE_PREFIX_PATH=PREFIX)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() { echo "usage: $0 PREFIX [--profile release|debug] [--no-build]" >&2; exit 2; }
[ $# -ge 1 ] || usage
prefix=$1; shift
profile=release
build=1
while [ $# -gt 0 ]; do
  case $1 in
    --profile) [ $# -ge 2 ] || usage; profile=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    *) usage ;;
  esac
done
case $profile in release|debug) ;; *) usage ;; esac

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
major=${version%%.*}
[ -n "$version" ] || { echo "cannot read the workspace version" >&2; exit 1; }

if [ "$build" = 1 ]; then
  if [ "$profile" = release ]; then
    (cd "$root" && cargo build --release -p auditwire-ffi)
  else
    (cd "$root" && cargo build -p auditwire-ffi)
  fi
fi
target_dir=${CARGO_TARGET_DIR:-$root/target}
out="$target_dir/$profile"
for f in libauditwire.so libauditwire.a; do
  [ -f "$out/$f" ] || { echo "missing $out/$f (build auditwire-ffi first)" >&2; exit 1; }
done

mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
libdir="$prefix/lib"
incdir="$prefix/include"
mkdir -p "$libdir/pkgconfig" "$libdir/cmake/auditwire" "$incdir"

# Shared library: real file with the full version, soname link, development link.
install -m 0755 "$out/libauditwire.so" "$libdir/libauditwire.so.$version"
ln -sf "libauditwire.so.$version" "$libdir/libauditwire.so.$major"
ln -sf "libauditwire.so.$major" "$libdir/libauditwire.so"
install -m 0644 "$out/libauditwire.a" "$libdir/libauditwire.a"
install -m 0644 "$root/include/auditwire.h" "$incdir/auditwire.h"

# System libraries the static library needs (rustc --print native-static-libs, Linux).
static_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

cat >"$libdir/pkgconfig/auditwire.pc" <<PC
prefix=$prefix
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: auditwire
Description: Audit-log client for the WorkOS Audit Logs API (C API)
Version: $version
Libs: -L\${libdir} -lauditwire
Libs.private: $static_libs
Cflags: -I\${includedir}
PC

cat >"$libdir/cmake/auditwire/auditwireConfig.cmake" <<'CMAKE'
# CMake package of auditwire: find_package(auditwire) gives the imported targets
#   auditwire::auditwire         the shared library (libauditwire.so)
#   auditwire::auditwire_static  the static library (libauditwire.a) with its system libs
get_filename_component(_auditwire_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
set(auditwire_INCLUDE_DIRS "${_auditwire_prefix}/include")
set(auditwire_LIBRARIES auditwire::auditwire)
if(NOT TARGET auditwire::auditwire)
  add_library(auditwire::auditwire SHARED IMPORTED)
  set_target_properties(auditwire::auditwire PROPERTIES
    IMPORTED_LOCATION "${_auditwire_prefix}/lib/libauditwire.so.@VERSION@"
    IMPORTED_SONAME "libauditwire.so.@MAJOR@"
    INTERFACE_INCLUDE_DIRECTORIES "${_auditwire_prefix}/include")
endif()
if(NOT TARGET auditwire::auditwire_static)
  find_package(Threads REQUIRED)
  add_library(auditwire::auditwire_static STATIC IMPORTED)
  set_target_properties(auditwire::auditwire_static PROPERTIES
    IMPORTED_LOCATION "${_auditwire_prefix}/lib/libauditwire.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_auditwire_prefix}/include"
    INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m;rt;util")
endif()
unset(_auditwire_prefix)
CMAKE
sed -i "s/@VERSION@/$version/; s/@MAJOR@/$major/" "$libdir/cmake/auditwire/auditwireConfig.cmake"

cat >"$libdir/cmake/auditwire/auditwireConfigVersion.cmake" <<CMAKE
# Version check of the auditwire CMake package: same major version, at least the one asked.
set(PACKAGE_VERSION "$version")
if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
elseif(NOT PACKAGE_FIND_VERSION_MAJOR STREQUAL "$major")
  set(PACKAGE_VERSION_COMPATIBLE FALSE)
else()
  set(PACKAGE_VERSION_COMPATIBLE TRUE)
  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)
    set(PACKAGE_VERSION_EXACT TRUE)
  endif()
endif()
CMAKE

echo "installed auditwire $version into $prefix"
