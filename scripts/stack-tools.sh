#!/usr/bin/env bash
# Builds, or reuses, the real observability tools that `npm run stack` and the end-to-end tests run natively
# (no Docker): Jaeger v2 and Causeway's own OpenTelemetry Collector, from the Go module proxy at the versions
# pinned in deploy/jaeger/go.mod and deploy/otelcol/go.mod, into .tools/bin (git-ignored); Prometheus and
# Alertmanager from Debian's packages.
#
# A tool is rebuilt only when its inputs change (its go.mod, go.sum and Go sources at any depth, and the Go
# version): a stamp beside each binary records them. Before a module of ours is built, its Go tests run (the
# collector's card_redaction processor): a failing test fails this script, and so CI, and nothing is built.
# Builds run one at a time (two Go builds at once on two cores only thrash) and take minutes on a fresh machine;
# the timings are printed. Set CAUSEWAY_TOOLS_DIR to build elsewhere.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="${CAUSEWAY_TOOLS_DIR:-$ROOT/.tools}"
BIN="$TOOLS/bin"
mkdir -p "$BIN"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"

if ! command -v go >/dev/null; then
  echo "stack-tools: Go is missing (Go 1.26 builds Jaeger and the collector)" >&2
  exit 1
fi

# One build at a time, also across callers (`npm run stack` while CI builds): the second waits for the first.
exec 9>"$TOOLS/.lock"
flock 9

# build NAME MODULE_DIR PACKAGE: builds PACKAGE in the module MODULE_DIR into $BIN/NAME unless its stamp is current.
# A module with tests of its own (deploy/otelcol's card_redaction processor) is tested first: `go test ./...`.
build() {
  local name="$1" dir="$ROOT/$2" package="$3"
  local files=(go.mod go.sum) f stamp
  # Every Go file of the module at any depth (the processor's package too), in a stable order.
  while IFS= read -r f; do files+=("$f"); done < <(cd "$dir" && find . -name '*.go' -type f | LC_ALL=C sort)
  stamp="$({ go version; cd "$dir" && cat "${files[@]}"; } | sha256sum | cut -d' ' -f1)"
  if [ -x "$BIN/$name" ] && [ "$(cat "$BIN/$name.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "stack-tools: $name is current ($BIN/$name)"
    return
  fi
  local start=$SECONDS
  if printf '%s\n' "${files[@]}" | grep -q '_test\.go$'; then
    echo "stack-tools: testing $2 (go test ./...)..."
    (cd "$dir" && go test ./...)
  fi
  echo "stack-tools: building $name from $2 (minutes on a fresh machine)..."
  (cd "$dir" && go build -trimpath -ldflags='-s -w' -o "$BIN/$name.new" "$package")
  mv "$BIN/$name.new" "$BIN/$name"
  echo "$stamp" > "$BIN/$name.stamp"
  echo "stack-tools: built $name in $((SECONDS - start)) s"
}

build otelcol deploy/otelcol .
build jaeger deploy/jaeger github.com/jaegertracing/jaeger/cmd/jaeger

# Prometheus and Alertmanager: Debian's packages (2.42 and 0.25; nothing newer is needed: Prometheus scrapes
# the collector's and the services' /metrics). apt-get only as root, as CI runs; otherwise say what to install.
if [ ! -x /usr/bin/prometheus ] || [ ! -x /usr/bin/prometheus-alertmanager ] || [ ! -x /usr/bin/promtool ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "stack-tools: installing prometheus and prometheus-alertmanager (apt-get)..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null
  else
    echo "stack-tools: Prometheus and Alertmanager are missing: sudo apt-get install prometheus prometheus-alertmanager" >&2
    exit 1
  fi
fi
echo "stack-tools: ready: $BIN/otelcol, $BIN/jaeger, /usr/bin/prometheus, /usr/bin/prometheus-alertmanager"
