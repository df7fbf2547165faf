#!/usr/bin/env bash
# make bench: the benchmarks quoted in README.md's "Benchmarks" section, then
# the same figures as a Markdown table. The heavy ones run once each
# (-benchtime 1x: a 1,000,000-row list, a 1,016-recipient recall on a
# Temporal dev server); the Slack acknowledgement three rounds of 50
# concurrent slash commands; the runbook loader, which takes milliseconds,
# 200 times. The raw output is kept in BENCH_OUT
# (default bin/bench.txt).
#
# E2E_BENCH selects the end-to-end benchmarks (a -bench regexp; default
# Recall1016, about 2 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
TEMPORAL=${TEMPORAL:-$PWD/bin/temporal}
OUT=${BENCH_OUT:-bin/bench.txt}
E2E_BENCH=${E2E_BENCH:-Recall1016}
mkdir -p "$(dirname "$OUT")"

machine() {
	local cpu mem
	cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | xargs || true)
	mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo 2>/dev/null || true)
	echo "machine: $(uname -sm), $(getconf _NPROCESSORS_ONLN) cores${cpu:+, $cpu}${mem:+, $mem}"
}

{
	machine
	echo "date: $(date -u +%Y-%m-%d)"
	$GO version
	$GO test -run '^$' -bench . -benchtime 1x ./internal/recipients/
	$GO test -run '^$' -bench SlashCommandAck -benchtime 3x ./internal/slackbot/
	$GO test -run '^$' -bench . -benchtime 200x ./runbooks/
	TEMPORAL_CLI_PATH=$TEMPORAL $GO test -run '^$' -bench "$E2E_BENCH" -benchtime 1x -timeout 60m -tags integration ./internal/e2e/
} 2>&1 | tee "$OUT"
echo
awk -f tools/benchtable.awk "$OUT"
