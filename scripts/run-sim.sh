#!/usr/bin/env bash
# make run: nucleus-sim in the background, drivermgrd in the foreground,
# the simulator's configuration from Tests/etc/. Ctrl-C stops both.
set -euo pipefail
BIN=${BIN:?path to the built binaries}
RUN_DIR=${RUN_DIR:-$PWD/run-sim}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$RUN_DIR"
# The sample configuration, plus a drop-in that allows drvctl inject for the demo.
rm -rf "$RUN_DIR/etc"
cp -r "$ROOT/Tests/etc" "$RUN_DIR/etc"
for d in ens1371 rtl8139; do
  mkdir -p "$RUN_DIR/etc/drivers.d/$d.conf.d"
  printf '[Recovery]\nFaultInjection=yes\n' > "$RUN_DIR/etc/drivers.d/$d.conf.d/90-demo.conf"
done
"$BIN/nucleus-sim" --socket "$RUN_DIR/nucleus-sim.sock" > "$RUN_DIR/nucleus-sim.log" 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null; wait $SIM 2>/dev/null || true' EXIT
cat <<MSG
nucleus-sim running (pid $SIM, log $RUN_DIR/nucleus-sim.log).
In another terminal:
  export DRIVERMGRD_RUNTIME_DIR=$RUN_DIR
  $BIN/drvctl list
  $BIN/drvctl status ens1371
  $BIN/drvctl call ens1371 mixer-set master 60
  $BIN/nucleus-sim client --socket $RUN_DIR/nucleus-sim.sock set-rate 1 44100
  $BIN/drvctl inject ens1371 crash     # then: drvctl status ens1371; drvctl history ens1371
MSG
"$BIN/drivermgrd" --config "$RUN_DIR/etc" --runtime-dir "$RUN_DIR" --driver-dir "$BIN"
