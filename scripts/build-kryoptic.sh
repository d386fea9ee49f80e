#!/usr/bin/env bash
# Builds kryoptic (a PKCS#11 software token in Rust, crate `kryoptic`, pinned below) from the
# Rust crate registry and caches its module under
# ~/.cache/byok-operator/bin/kryoptic-<version>/libkryoptic_pkcs11.so. A second run finds it and
# costs nothing. Prints the module's path on stdout; progress goes to stderr.
#
# Why a second token: SoftHSM2 2.6.1 lacks RSA-OAEP with SHA-256, ChaCha20, Ed25519 wrapping and
# wraps PKCS#8 zero-padded (hsm/README.md); kryoptic has them, so the HSM tests and the
# ImportedKey matrix run on both tokens (tests/hsm/test_token.h, BYOK_TEST_TOKEN).
#
# kryoptic's EdDSA needs OpenSSL 3.2 or newer, and Debian bookworm has 3.0, so it links OpenSSL
# 3.5 statically: the sources come from the `openssl-src` crate (pinned), built here with the
# options kryoptic's own build uses (no shared libraries or loadable modules). About 3-4 min
# on 2 cores the first time.
set -euo pipefail

KRYOPTIC_VERSION="${KRYOPTIC_VERSION:-1.5.4}"
OPENSSL_SRC_VERSION="300.5.5+3.5.5"
CACHE="${BYOK_CACHE:-$HOME/.cache/byok-operator}"
DIR="$CACHE/bin/kryoptic-$KRYOPTIC_VERSION"
WORK="$CACHE/build/kryoptic-$KRYOPTIC_VERSION"
JOBS="${BYOK_BUILD_JOBS:-$(nproc)}"

log() { printf '[build-kryoptic] %s\n' "$*" >&2; }

if [[ ! -f "$DIR/libkryoptic_pkcs11.so" ]]; then
  command -v cargo >/dev/null || { log "cargo is not installed"; exit 1; }
  log "building kryoptic $KRYOPTIC_VERSION with OpenSSL $OPENSSL_SRC_VERSION (first run only; minutes)"
  started=$SECONDS
  rm -rf "$WORK"
  mkdir -p "$WORK/fetch/src"
  # The two crates' sources, as the registry serves them (cargo vendor unpacks them).
  cat >"$WORK/fetch/Cargo.toml" <<TOML
[package]
name = "byok-kryoptic-fetch"
version = "0.0.0"
edition = "2021"
[dependencies]
kryoptic = { version = "=$KRYOPTIC_VERSION", default-features = false }
openssl-src = "=$OPENSSL_SRC_VERSION"
TOML
  : >"$WORK/fetch/src/lib.rs"
  (cd "$WORK/fetch" && cargo vendor --quiet "$WORK/vendor" >/dev/null)
  # OpenSSL: libcrypto.a only; the options of ossl-sys's build.rs, without what the crate's
  # trimmed tree cannot build (shared libraries, provider modules, legacy, apps).
  cp -r "$WORK/vendor/openssl-src/openssl" "$WORK/openssl"
  (cd "$WORK/openssl" &&
    ./Configure no-deprecated no-aria no-argon2 no-atexit no-des no-dsa no-cast no-mdc2 no-ec2m \
      no-rc2 no-rc4 no-rc5 no-rmd160 no-seed no-sm2 no-sm3 no-sm4 no-docs no-tests \
      enable-ec_nistp_64_gcc_128 no-shared no-module no-legacy no-apps \
      '-DDEVRANDOM=\"/dev/urandom\"' >"$WORK/openssl-configure.log" 2>&1 &&
    make -j"$JOBS" build_libs >"$WORK/openssl-make.log" 2>&1) \
    || { grep -h -B2 -A3 "error" "$WORK"/openssl-*.log | tail -n 20 >&2; exit 1; }
  # kryoptic's package carries its Cargo.lock: --locked builds what its release pinned.
  cp -r "$WORK/vendor/kryoptic" "$WORK/kryoptic"
  rm -f "$WORK/kryoptic/.cargo-checksum.json"
  (cd "$WORK/kryoptic" &&
    KRYOPTIC_OPENSSL_SOURCES="$WORK/openssl" cargo build --release --locked -j"$JOBS" \
      --no-default-features --target-dir "$WORK/target" \
      --features ossl/ossl-sys,kryoptic-lib/sqlitedb,kryoptic-lib/rsa,kryoptic-lib/aes,kryoptic-lib/hash,kryoptic-lib/ecdsa,kryoptic-lib/eddsa,kryoptic-lib/chacha20 \
      >"$WORK/cargo.log" 2>&1) || { tail -n 30 "$WORK/cargo.log" >&2; exit 1; }
  rm -rf "$DIR.tmp" && mkdir -p "$DIR.tmp"
  cp "$WORK/target/release/libkryoptic_pkcs11.so" "$DIR.tmp/"
  rm -rf "$DIR" && mv "$DIR.tmp" "$DIR"
  rm -rf "$WORK"
  log "built $DIR/libkryoptic_pkcs11.so in $((SECONDS - started))s"
fi
echo "$DIR/libkryoptic_pkcs11.so"
