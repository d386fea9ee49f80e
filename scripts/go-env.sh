# Sourced by the scripts that build Go programs (the control plane, Vault, helm): puts a Go
# toolchain of at least GO_MIN on PATH. The machine's own when it is new enough (on PATH or in
# /usr/local/go); otherwise one fetched once from the Go module proxy (the golang.org/toolchain
# module, the same download `GOTOOLCHAIN` does) into ~/.cache/byok-operator/go-<version>, so a
# fresh machine needs nothing but curl and python3 (scripts/deps/apt-packages.txt).
GO_MIN=1.24
GO_FETCH_VERSION=1.24.5

go_new_enough() {  # $1: a go binary
  local v
  v=$("$1" env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  [[ -n "$v" && "$(printf '%s\n%s\n' "$v" "$GO_MIN" | sort -V | head -1)" == "$GO_MIN" ]]
}

go_env_setup() {
  local candidate
  for candidate in "$(command -v go 2>/dev/null)" /usr/local/go/bin/go; do
    if [[ -n "$candidate" && -x "$candidate" ]] && go_new_enough "$candidate"; then
      export PATH="$(dirname "$candidate"):$PATH"
      return 0
    fi
  done
  local dir="$HOME/.cache/byok-operator/go-$GO_FETCH_VERSION"
  local root="$dir/golang.org/toolchain@v0.0.1-go$GO_FETCH_VERSION.linux-amd64"
  if [[ ! -x "$root/bin/go" ]]; then
    local proxy="${GOPROXY:-https://proxy.golang.org}"
    proxy="${proxy%%,*}"
    local zip="golang.org/toolchain/@v/v0.0.1-go$GO_FETCH_VERSION.linux-amd64.zip"
    printf '[go-env] no Go >= %s here: fetching go%s from the Go module proxy (once)\n' \
      "$GO_MIN" "$GO_FETCH_VERSION" >&2
    mkdir -p "$dir"
    curl -fsSL "$proxy/$zip" -o "$dir/toolchain.zip" || return 1
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
      "$dir/toolchain.zip" "$dir" || return 1
    rm -f "$dir/toolchain.zip"
    chmod +x "$root/bin/"* "$root/pkg/tool/"*/* 2>/dev/null || true
  fi
  export PATH="$root/bin:$PATH"
  go_new_enough "$root/bin/go"
}
