#!/usr/bin/env bash
# Builds the Pocketbook core for iOS and packages it for the demo app:
#   1. the bindings crate (lib `pocketbook_ffi`) as a static library for the device
#      (aarch64-apple-ios) and the simulator (aarch64-apple-ios-sim + x86_64-apple-ios, lipo'd
#      into one fat library);
#   2. the Swift bindings, generated in library mode from the device library with the
#      workspace's own uniffi-bindgen (as scripts/bindings does);
#   3. the C header and module map (as module.modulemap) for the module `PocketbookCoreFFI`;
#   4. Frameworks/PocketbookFFI.xcframework (xcodebuild -create-xcframework);
#   5. the generated PocketbookCore.swift copied into Pocketbook/Generated/.
# Everything it writes is build output and gitignored: never commit or hand-edit it.
#
# Needs macOS with Xcode (xcodebuild, xcrun, lipo), rustup and cargo.
# Usage: ios-demo/scripts/build-xcframework.sh [release|debug]   (default: release)
# Environment: IPHONEOS_DEPLOYMENT_TARGET (default 17.0, the app's deployment target).
set -euo pipefail

die() { echo "build-xcframework: $*" >&2; exit 1; }

profile="${1:-release}"
case "$profile" in
  release) cargo_profile_flag=(--release) ;;
  debug) cargo_profile_flag=() ;;
  *) die "usage: $0 [release|debug]" ;;
esac

demo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$demo/.." && pwd)"

[ "$(uname -s)" = Darwin ] || die "this builds iOS libraries: run it on macOS with Xcode installed"
for tool in cargo rustup xcodebuild xcrun lipo; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH"
done

crate=pocketbook-bindings
lib=libpocketbook_ffi.a
ffi_module=PocketbookCoreFFI
swift_file=PocketbookCore.swift
device_target=aarch64-apple-ios
simulator_targets=(aarch64-apple-ios-sim x86_64-apple-ios)

# The C parts (SQLCipher, OpenSSL) and Rust code are built for the app's minimum iOS version,
# so the linker does not warn about objects built for a newer one.
export IPHONEOS_DEPLOYMENT_TARGET="${IPHONEOS_DEPLOYMENT_TARGET:-17.0}"

installed="$(rustup target list --installed)"
for target in "$device_target" "${simulator_targets[@]}"; do
  if ! grep -qx "$target" <<<"$installed"; then
    echo "==> rustup target add $target"
    rustup target add "$target"
  fi
done

cd "$root"

# 1. Static libraries. `cargo rustc --crate-type staticlib` builds only the static library
#    (the crate also declares cdylib and rlib outputs, which iOS does not need).
for target in "$device_target" "${simulator_targets[@]}"; do
  echo "==> building $crate ($profile) for $target"
  cargo rustc -p "$crate" --lib --crate-type staticlib --target "$target" \
    ${cargo_profile_flag[@]+"${cargo_profile_flag[@]}"}
done

device_lib="$root/target/$device_target/$profile/$lib"
[ -f "$device_lib" ] || die "missing $device_lib"

staging="$demo/build/xcframework"
rm -rf "$staging"
mkdir -p "$staging/simulator" "$staging/swift" "$staging/headers"

simulator_libs=()
for target in "${simulator_targets[@]}"; do
  simulator_libs+=("$root/target/$target/$profile/$lib")
done
echo "==> lipo ${simulator_targets[*]} into one simulator library"
lipo -create "${simulator_libs[@]}" -output "$staging/simulator/$lib"

# 2. Swift bindings, in library mode, with the workspace's uniffi-bindgen built for this Mac.
#    bindings/uniffi.toml names the Swift module PocketbookCore and the FFI module
#    PocketbookCoreFFI; library mode finds it through `cargo metadata`, so run it from the
#    workspace root. The static library carries the same interface metadata as the cdylib.
echo "==> building uniffi-bindgen (host)"
cargo build -q -p pocketbook-bindgen \
  ${cargo_profile_flag[@]+"${cargo_profile_flag[@]}"}
bindgen="$root/target/$profile/uniffi-bindgen"
[ -x "$bindgen" ] || die "missing $bindgen"

echo "==> generating Swift bindings from $device_lib"
"$bindgen" generate --library "$device_lib" --language swift \
  --out-dir "$staging/swift" --no-format
for generated in "$swift_file" "$ffi_module.h" "$ffi_module.modulemap"; do
  [ -f "$staging/swift/$generated" ] || die "uniffi-bindgen did not write $generated"
done

# 3. Headers: the module map must be called module.modulemap and sit at the top of Headers/
#    (Xcode 26's explicit-module scanner is reported not to look in subfolders; Xcode copies
#    Headers/ to $(BUILT_PRODUCTS_DIR)/include/). That top-level name would clash with a second library
#    XCFramework doing the same; this app links only this one.
#    The `use "_Builtin_stdbool"` / `use "_Builtin_stdint"` lines uniffi 0.32 writes name clang
#    builtin modules that Xcode 26+ toolchains no longer provide as modules, so the module fails
#    to build there (mozilla/uniffi-rs#2917); they only matter under strict `use` checking,
#    which Xcode does not turn on by default, so drop them. `use "Darwin"` stays.
cp "$staging/swift/$ffi_module.h" "$staging/headers/"
sed -e '/use "_Builtin_/d' "$staging/swift/$ffi_module.modulemap" > "$staging/headers/module.modulemap"
grep -q "header \"$ffi_module.h\"" "$staging/headers/module.modulemap" \
  || die "unexpected module map from uniffi-bindgen: $staging/swift/$ffi_module.modulemap"

# 4. The XCFramework: one static library per platform, each with the same headers.
xcframework="$demo/Frameworks/PocketbookFFI.xcframework"
rm -rf "$xcframework"
mkdir -p "$demo/Frameworks"
echo "==> xcodebuild -create-xcframework"
xcodebuild -create-xcframework \
  -library "$device_lib" -headers "$staging/headers" \
  -library "$staging/simulator/$lib" -headers "$staging/headers" \
  -output "$xcframework"

# 5. The generated Swift goes into the app target's sources (compiled into the app module).
mkdir -p "$demo/Pocketbook/Generated"
cp "$staging/swift/$swift_file" "$demo/Pocketbook/Generated/$swift_file"

echo "==> done: $xcframework"
echo "           $demo/Pocketbook/Generated/$swift_file"
if command -v xcodegen >/dev/null 2>&1; then
  echo "==> xcodegen generate"
  (cd "$demo" && xcodegen generate)
  echo "open $demo/PocketbookDemo.xcodeproj"
else
  echo "next: brew install xcodegen && (cd ios-demo && xcodegen generate), then open ios-demo/PocketbookDemo.xcodeproj"
fi
