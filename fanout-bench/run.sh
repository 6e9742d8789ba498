#!/usr/bin/env bash
# Runs the fanout benchmark (build it first: mvn -B -q -DskipTests package -pl fanout-bench -am).
# Arguments go to the benchmark; --help lists them. JAVA picks the driver's java, and
# --server-java=PATH the one that runs the servers.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every client costs a descriptor in the driver and one in the server process.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then
  hard=65536
fi
if [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt "$hard" ]; then
  ulimit -Sn "$hard"
fi

# Every client also takes an ephemeral port on loopback; the benchmark caps clients to fit.
if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then
  read -r low high < /proc/sys/net/ipv4/ip_local_port_range
  echo "open files: $(ulimit -Sn); ephemeral ports: $low-$high ($((high - low + 1)))"
fi

exec "${JAVA:-java}" -jar fanout-bench/target/fanout-bench.jar "$@"
