#!/usr/bin/env bash
# Runs one provider's conformance test: the provider's official SDK (tests/conformance/
# requirements.txt) drives the test server that the integration fixture kms-server/PROVIDER
# started (its settings in SERVERS_DIR/PROVIDER/env), through the flows the operator uses.
#
#   tests/conformance/run.sh PROVIDER SERVERS_DIR
set -euo pipefail
provider=$1 servers=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../harness/lib.sh
source "$here/../harness/lib.sh"
python=$(conformance_python)
env_file=$servers/$provider/env
[[ -f "$env_file" ]] || { echo "conformance: no $env_file (is the kms-server/$provider fixture up?)" >&2; exit 1; }
set -a
# shellcheck disable=SC1090
source "$env_file"
set +a
cd "$here"
exec "$python" -m unittest -v "test_${provider}_sdk"
