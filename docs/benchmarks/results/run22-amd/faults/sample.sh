#!/usr/bin/env bash
# every second: epoch, then for each server JVM (quarkus-run.jar / bench-vertx-peer.jar): name minflt majflt utime stime
while true; do
  line="$(date +%s.%N)"
  for p in $(pgrep -f 'quarkus-run.jar|bench-vertx-peer.jar'); do
    name=$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -o 'quarkus-run.jar\|bench-vertx-peer.jar' | head -1)
    st=$(sed 's/.*) //' /proc/$p/stat 2>/dev/null | awk '{print $8, $10, $12, $13}')
    line="$line $name:$p $st"
  done
  echo "$line"
  sleep 1
done
