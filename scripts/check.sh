#!/usr/bin/env bash
# The quick check before a commit (well under a minute on a built tree):
#   1. clang-format: every tracked C++ file matches .clang-format (--fix rewrites them);
#   2. clang-tidy (.clang-tidy) on the C++ files this change touches;
#   3. an incremental build and the unit tests (ctest -L unit).
# "This change" is what differs from CHECK_BASE (default: the merge base with origin/main, or
# HEAD when there is none or it is HEAD: the uncommitted work), committed or not, plus new files.
# --fix rewrites every C++ file to .clang-format and stops; --all lints every file (minutes).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BYOK_BUILD_DIR:-$ROOT/build}
cd "$ROOT"
fix=0 all=0
for arg in "$@"; do
  case "$arg" in
    --fix) fix=1 ;;
    --all) all=1 ;;
    *) echo "usage: scripts/check.sh [--fix] [--all]" >&2; exit 2 ;;
  esac
done
for tool in clang-format-14 clang-tidy-14 run-clang-tidy-14; do
  command -v "$tool" >/dev/null || { echo "check.sh: $tool is missing: run scripts/install-deps.sh" >&2; exit 1; }
done
status=0

mapfile -t sources < <(git ls-files '*.cpp' '*.h')
if ((fix)); then
  clang-format-14 -i "${sources[@]}"
  exit 0
elif ! clang-format-14 --dry-run --Werror "${sources[@]}" 2>/tmp/check-format.$$; then
  grep 'error:' /tmp/check-format.$$ | sed 's/: error: code should be clang-formatted.*//' | sort -u | head -20 >&2
  echo "check.sh: the files above are not formatted: scripts/check.sh --fix" >&2
  status=1
fi
rm -f /tmp/check-format.$$

# Configures (and so writes compile_commands.json for clang-tidy), then builds what changed.
"$ROOT/scripts/build.sh" >/dev/null

if ((all)); then
  changed=("${sources[@]}")
else
  base=${CHECK_BASE:-$(git merge-base HEAD origin/main 2>/dev/null || true)}
  [[ -n "$base" ]] || base=HEAD
  mapfile -t changed < <({ git diff --name-only --diff-filter=d "$base" -- '*.cpp' '*.h'; git ls-files --others --exclude-standard -- '*.cpp' '*.h'; } | sort -u)
fi
# clang-tidy reads translation units: a changed header is linted through the files of its folder.
mapfile -t units < <(for f in "${changed[@]}"; do
  case "$f" in
    *.cpp) echo "$f" ;;
    *.h) git ls-files "$(dirname "$f")/*.cpp" ;;
  esac
done | sort -u | grep -v '^tests/fuzz/' || true)
if ((${#units[@]})); then
  regex=$(printf '%s\n' "${units[@]}" | sed 's/[.]/[.]/g' | paste -sd'|')
  if ! run-clang-tidy-14 -quiet -p "$BUILD" -j "$(nproc)" "($regex)\$" >/tmp/check-tidy.$$ 2>&1; then
    grep -E 'warning:|error:' /tmp/check-tidy.$$ | sort -u >&2 || tail -20 /tmp/check-tidy.$$ >&2
    echo "check.sh: clang-tidy found problems in ${#units[@]} file(s)" >&2
    status=1
  fi
  rm -f /tmp/check-tidy.$$
fi

if (cd "$BUILD" && ctest -L '^unit$' -j"$(nproc)" --output-on-failure >/tmp/check-unit.$$ 2>&1); then
  grep 'tests passed' /tmp/check-unit.$$
else
  tail -40 /tmp/check-unit.$$ >&2
  echo "check.sh: unit tests failed" >&2
  status=1
fi
rm -f /tmp/check-unit.$$
exit "$status"
