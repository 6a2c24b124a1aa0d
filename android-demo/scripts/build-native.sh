#!/usr/bin/env bash
# Why this file exists: the Android app needs the Rust core as a native library for each ABI it
# ships, and Kotlin bindings that match that library exactly. This builds the bindings crate
# (pocketbook-bindings, library libpocketbook_ffi.so) for arm64-v8a and x86_64 with cargo-ndk into
# app/src/main/jniLibs, then generates the Kotlin bindings from the built library with the
# workspace's own uniffi-bindgen in library mode into state/src/generated/kotlin. Both outputs are
# build products: gitignored, never edited, never committed.
#
# Needs: the Android NDK (ANDROID_NDK_HOME, or ANDROID_HOME with an ndk/<version> inside),
# cargo-ndk (`cargo install cargo-ndk`), perl and make (the vendored OpenSSL that SQLCipher uses
# is built from source for each target). The rustup targets are added if missing.
#
# Usage: android-demo/scripts/build-native.sh [release|debug]     (default: release)
set -euo pipefail
demo="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$demo/.." && pwd)"
profile="${1:-release}"
case "$profile" in
  release) profile_flag=(--release) ;;
  debug) profile_flag=() ;;
  *) echo "usage: $0 [release|debug]" >&2; exit 2 ;;
esac
abis=(arm64-v8a x86_64)
triples=(aarch64-linux-android x86_64-linux-android)
min_sdk=26 # keep in step with app/build.gradle.kts

if ! cargo ndk --version >/dev/null 2>&1; then
  echo "cargo-ndk is missing: cargo install cargo-ndk" >&2
  exit 1
fi
if [ -z "${ANDROID_NDK_HOME:-}" ] && [ -z "${ANDROID_NDK_ROOT:-}" ] && [ ! -d "${ANDROID_HOME:-/nonexistent}/ndk" ]; then
  echo "no Android NDK: set ANDROID_NDK_HOME (or ANDROID_HOME with ndk/<version> inside)" >&2
  exit 1
fi
installed="$(rustup target list --installed)"
for triple in "${triples[@]}"; do
  grep -qx "$triple" <<<"$installed" || rustup target add "$triple"
done

cd "$root"
jni="$demo/app/src/main/jniLibs"
rm -rf "$jni"
ndk_targets=()
for abi in "${abis[@]}"; do ndk_targets+=(-t "$abi"); done
echo "==> building pocketbook-bindings ($profile) for ${abis[*]}"
cargo ndk "${ndk_targets[@]}" --platform "$min_sdk" -o "$jni" \
  build -p pocketbook-bindings --lib "${profile_flag[@]}"

echo "==> generating the Kotlin bindings (uniffi-bindgen, library mode)"
# The host build of the workspace's bindgen; it reads the metadata of the (unstripped) arm64
# library cargo left in target/, not the copy in jniLibs.
cargo build -q -p pocketbook-bindgen
library="target/${triples[0]}/$profile/libpocketbook_ffi.so"
generated="$demo/state/src/generated/kotlin"
rm -rf "$generated"
target/debug/uniffi-bindgen generate --library "$library" --language kotlin \
  --out-dir "$generated" --no-format

for abi in "${abis[@]}"; do
  test -f "$jni/$abi/libpocketbook_ffi.so" || { echo "missing $jni/$abi/libpocketbook_ffi.so" >&2; exit 1; }
done
echo "native libraries in $jni (${abis[*]}); Kotlin bindings in $generated"
echo "next: cd android-demo && gradle assembleDebug   (or ./gradlew after 'gradle wrapper')"
