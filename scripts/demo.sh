#!/usr/bin/env bash
# A first run without a cluster: the watcher against the test API server and
# a usage server whose memory swings between 50% and 90% every few seconds.
# Shows the pod's label flipping and the Events, read with the real kubectl.
#   scripts/demo.sh [SECONDS]        (default 20; Ctrl-C ends it early, the same way)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
label=echo.soketi.app/accepts-new-connections

command -v swift >/dev/null || { echo "demo: Swift 6 is needed (swift.org)" >&2; exit 1; }
scripts/install-deps.sh --demo
swift build --product network-watcher 2>&1 | tail -1

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME PROGRAM ARGS...: runs a test server; its READY line ends up in $work/NAME.
# (Not in a command substitution: that subshell would keep the pid from cleanup.)
start() {
  local name=$1
  shift
  python3 "$@" >"$work/$name" 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 100); do
    grep -qs READY "$work/$name" && return
    sleep 0.1
  done
  echo "demo: $1 did not start" >&2; cat "$work/$name.log" >&2; exit 1
}
control() {  # control URL JSON
  python3 -c 'import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[1], sys.argv[2].encode(), {"Content-Type": "application/json"}), timeout=5).read()' "$1" "$2"
}

PYTHONPATH=Tests/integration python3 -c '
import sys
from support import pki
ca = pki.make_ca(sys.argv[1]); pki.make_cert(sys.argv[1], "server", ca)' "$work"

start api Tests/integration/servers/fake_apiserver.py --port 0 --control-port 0 \
  --cert "$work/server.crt" --key "$work/server.key" --tokens '{"demo-token": ["*"]}'
api=$(sed -E 's/.*api=([0-9]+).*/\1/' "$work/api")
api_control=$(sed -E 's/.*control=([0-9]+).*/\1/' "$work/api")
start usage Tests/integration/servers/usage_server.py --port 0
usage=$(sed -E 's/.*port=([0-9]+).*/\1/' "$work/usage")
control "http://127.0.0.1:$api_control/control/pods" '{"namespace": "default", "name": "echo-0", "labels": {"app": "echo"}}'
control "http://127.0.0.1:$usage/control" '{"wave": {"low": 50, "high": 90, "period": 8}}'

kubectl="kubectl --kubeconfig $work/kubeconfig --cache-dir $work/cache --request-timeout 5s"
$kubectl config set-cluster demo --server "https://127.0.0.1:$api" --certificate-authority "$work/test-ca.crt" >/dev/null
$kubectl config set-credentials demo --token demo-token >/dev/null
$kubectl config set-context demo --cluster demo --user demo --namespace default >/dev/null
$kubectl config use-context demo >/dev/null

echo "== network-watcher: threshold 75%, usage swinging 50% <-> 90%, for ${seconds}s"
KUBE_CONNECTION=token KUBE_HOST="https://127.0.0.1:$api" KUBE_BEARER_TOKEN=demo-token \
  KUBE_CA_PATH="$work/test-ca.crt" POD_NAME=echo-0 POD_NAMESPACE=default \
  USAGE_URL="http://127.0.0.1:$usage/usage" MEMORY_PERCENT=75 CHECKING_INTERVAL=0.5 \
  setsid .build/debug/network-watcher network:watch &
watcher=$!
pids+=($watcher)
# In a session of its own the watcher does not get the terminal's Ctrl-C:
# it gets one SIGTERM from here, as from a kubelet, and a Ctrl-C ends the
# demo the way its end does. (A second signal while it sets its label on the
# way out would cut that short.)
stop=0
trap 'stop=1' INT TERM

end=$((SECONDS + seconds))
while [ $SECONDS -lt $end ] && [ "$stop" = 0 ]; do
  sleep 2 || true
  [ "$stop" = 0 ] || break
  echo "== kubectl get pod echo-0 -L $label"
  $kubectl get pod echo-0 -L "$label" || [ "$stop" = 1 ]
done

kill -TERM "$watcher"
while kill -0 "$watcher" 2>/dev/null; do wait "$watcher" || true; done
echo "== after SIGTERM to the watcher: kubectl get pod echo-0 -L $label"
$kubectl get pod echo-0 -L "$label"
echo "== kubectl get events"
$kubectl get events -o custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message
