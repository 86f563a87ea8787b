#!/usr/bin/env bash
# bench/run.sh: the performance comparisons of self-heal (`make bench`).
#
# Generates its inputs in a temporary directory, runs both sides of each
# comparison alternately RUNS times, and prints the medians and ratios:
#
#   1. scan: `self-heal explain` on a SCAN_SIZE log with the catalogue plus
#      300 generated patterns, against `grep -E -c -f` and `rg -c -f` with
#      the same conditions as EREs;
#   2. pass-through: `self-heal run -- cat FILE` against `cat FILE` on a
#      PASS_SIZE log, both into the same pipe reader: md5sum (which also
#      proves the bytes identical in every run) and cat >/dev/null;
#   3. memory: peak RSS of run on the PASS_SIZE log, of run on one 10 MiB
#      line, and of explain with 1,000 patterns;
#   4. heal overhead: from a failing step's exit to its re-run's start,
#      with no configured wait, over every re-run of HEAL_RUNS runs.
#
# Then it runs the Go benchmarks of the matcher and the normaliser.
# Installs what it needs and is missing: ripgrep (Debian package).
#
# Environment: RUNS (5), SCAN_SIZE (256M), PASS_SIZE (1G), HEAL_RUNS (5),
# GO_BENCH (1: run the Go benchmarks), KEEP (1: keep the inputs).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-5}
SCAN_SIZE=${SCAN_SIZE:-256M}
PASS_SIZE=${PASS_SIZE:-1G}
HEAL_RUNS=${HEAL_RUNS:-5}
GO_BENCH=${GO_BENCH:-1}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/self-heal-bench.XXXXXX")
if [ "${KEEP:-0}" != 1 ]; then
	trap 'rm -rf "$WORK"' EXIT
fi
export CHECKPOINT_DISABLE=1 LC_ALL=C.UTF-8

say() { printf '%s\n' "$*"; }

install_tools() {
	if ! command -v rg >/dev/null; then
		say "installing ripgrep (Debian package)"
		local sudo=""
		[ "$(id -u)" = 0 ] || sudo=sudo
		$sudo apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq ripgrep >/dev/null
	fi
}

# seconds runs a command line in bash and prints its wall time and the
# CPU time (user and system) of all its processes, in seconds. On a shared
# machine the CPU time is the steadier figure: the wall time of a side
# grows with the work of other users in proportion to its CPU time.
# The command's output goes to a file, not to /dev/null: GNU grep notices
# an output of /dev/null and then stops at the first matching line, even
# with -c, which would time it on a few megabytes instead of the whole log.
seconds() {
	local TIMEFORMAT='%3R %3U %3S' t
	t=$({ time bash -c "$1" >"$WORK/stdout" 2>/dev/null; } 2>&1)
	awk '{ printf "%.4f %.4f\n", $1, $2 + $3 }' <<<"$t"
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a / b }'; }

# added NAME prints the median CPU time of NAME's second side less its first's.
added() { awk -v a="$(cat "$WORK/$1.2.cpu")" -v b="$(cat "$WORK/$1.1.cpu")" 'BEGIN { printf "%.3f\n", a - b }'; }

# compare NAME CMD... runs the command lines alternately RUNS times and
# prints each one's median wall and CPU time; the medians also go to
# $WORK/NAME.<i> and $WORK/NAME.<i>.cpu.
compare() {
	local name=$1 i r
	shift
	for ((r = 1; r <= RUNS; r++)); do
		i=0
		for cmd in "$@"; do
			i=$((i + 1))
			seconds "$cmd" >>"$WORK/$name.$i.times"
		done
	done
	i=0
	for cmd in "$@"; do
		i=$((i + 1))
		cut -d' ' -f1 "$WORK/$name.$i.times" | median >"$WORK/$name.$i"
		cut -d' ' -f2 "$WORK/$name.$i.times" | median >"$WORK/$name.$i.cpu"
		printf '  %-64s median %ss, CPU %ss (runs: %s)\n' "$cmd" "$(cat "$WORK/$name.$i")" \
			"$(cat "$WORK/$name.$i.cpu")" "$(cut -d' ' -f1 "$WORK/$name.$i.times" | paste -sd' ')"
	done
}

build() {
	say "building self-heal (as make build does) and the bench tools"
	go build -trimpath -ldflags '-s -w' -o "$WORK/self-heal" .
	go build -o "$WORK/gen" ./bench/gen
	go build -o "$WORK/rss" ./bench/rss
}

generate() {
	say "generating inputs in $WORK"
	"$WORK/gen" log "$SCAN_SIZE" "$WORK/scan.log"
	"$WORK/gen" log "$PASS_SIZE" "$WORK/pass.log"
	"$WORK/gen" line 10M "$WORK/line.log"
	"$WORK/gen" patterns 300 "$WORK/p300.yaml" "$WORK/p300.ere"
	"$WORK/gen" patterns 1000 "$WORK/p1000.yaml" "$WORK/p1000.ere"
	# ripgrep reads the same expressions, with ASCII word boundaries: a
	# Unicode \b keeps its regex engine off its DFA for the whole set,
	# which makes it thousands of times slower on this input.
	sed 's/\\b/(?-u:\\b)/g; s/\\B/(?-u:\\B)/g' "$WORK/p300.ere" >"$WORK/p300.rg"
}

bench_scan() {
	local sh=$WORK/self-heal
	say ""
	say "1. scan: $SCAN_SIZE log, catalogue + 300 patterns ($(wc -l <"$WORK/p300.ere") EREs)"
	"$sh" explain --patterns "$WORK/p300.yaml" "$WORK/scan.log" | sed -n 1p | sed 's/^/  self-heal: /'
	say "  grep -c: $(grep -E -c -f "$WORK/p300.ere" "$WORK/scan.log") matching lines"
	compare scan \
		"$sh explain --patterns $WORK/p300.yaml $WORK/scan.log" \
		"grep -E -c -f $WORK/p300.ere $WORK/scan.log" \
		"rg -c -f $WORK/p300.rg $WORK/scan.log"
	say "  ratio explain/grep: $(ratio "$(cat "$WORK/scan.1")" "$(cat "$WORK/scan.2")") (target <= 1.0)"
	say "  ratio explain/rg:   $(ratio "$(cat "$WORK/scan.1")" "$(cat "$WORK/scan.3")")"
	say "  CPU ratio explain/grep: $(ratio "$(cat "$WORK/scan.1.cpu")" "$(cat "$WORK/scan.2.cpu")")"
}

bench_pass() {
	local sh="$WORK/self-heal run --ledger off --comment=false --"
	say ""
	say "2. pass-through: $PASS_SIZE log"
	local want got
	want=$(cat "$WORK/pass.log" | md5sum)
	got=$(cd "$WORK" && $sh cat "$WORK/pass.log" 2>/dev/null | md5sum)
	if [ "$want" != "$got" ]; then
		say "  FAIL: bytes differ ($want vs $got)"
		return 1
	fi
	say "  bytes identical (md5 ${want%% *})"
	compare pass_md5 \
		"cat $WORK/pass.log | md5sum" \
		"cd $WORK && $sh cat $WORK/pass.log 2>/dev/null | md5sum"
	say "  ratio into md5sum:       $(ratio "$(cat "$WORK/pass_md5.2")" "$(cat "$WORK/pass_md5.1")") (target <= 1.05)"
	say "  CPU added by self-heal:  $(added pass_md5) s"
	compare pass_cat \
		"cat $WORK/pass.log | cat >/dev/null" \
		"cd $WORK && $sh cat $WORK/pass.log 2>/dev/null | cat >/dev/null"
	say "  ratio into cat>/dev/null: $(ratio "$(cat "$WORK/pass_cat.2")" "$(cat "$WORK/pass_cat.1")")"
	say "  CPU added by self-heal:  $(added pass_cat) s"
}

bench_memory() {
	local sh=$WORK/self-heal
	say ""
	say "3. memory (KiB; maxrss counts the binary's mapped file, anon_peak what the process allocated)"
	say "  self-heal --help:                 $("$WORK/rss" -- "$sh" --help)"
	say "  run -- cat $PASS_SIZE log:             $(cd "$WORK" && "$WORK/rss" -- "$sh" run --ledger off \
		--comment=false -- cat "$WORK/pass.log")"
	say "  run -- cat one 10 MiB line:       $(cd "$WORK" && "$WORK/rss" -- "$sh" run --ledger off \
		--comment=false -- cat "$WORK/line.log")"
	say "  explain, 1,000 patterns, $SCAN_SIZE: $("$WORK/rss" -- "$sh" explain \
		--patterns "$WORK/p1000.yaml" "$WORK/scan.log")"
	say "  the same with GOMEMLIMIT=off:    $(GOMEMLIMIT=off "$WORK/rss" -- "$sh" explain \
		--patterns "$WORK/p1000.yaml" "$WORK/scan.log")"
}

bench_heal() {
	say ""
	say "4. heal overhead: step exit to re-run start, no configured wait"
	"$WORK/gen" log 32M "$WORK/step.log"
	cat >"$WORK/heal.yaml" <<'EOF'
version: 1
patterns:
  - id: bench-transient
    title: A transient failure the bench step prints
    category: timing
    match:
      any: ["bench: transient failure, try again"]
    fixes:
      - use: wait.backoff
    retry: {attempts: 10, initial: 0s, jitter: 0}
EOF
	cat >"$WORK/step.sh" <<'EOF'
#!/bin/sh
# Prints a 32 MiB debug log, then fails until the fifth attempt.
echo "start $(date +%s%N)" >>"$TIMES"
cat "$STEP_LOG"
n=$(grep -c start "$TIMES")
if [ "$n" -lt 5 ]; then
	echo "bench: transient failure, try again"
	echo "exit $(date +%s%N)" >>"$TIMES"
	exit 1
fi
echo "exit $(date +%s%N)" >>"$TIMES"
EOF
	chmod +x "$WORK/step.sh"
	: >"$WORK/heal.gaps"
	for ((r = 1; r <= HEAL_RUNS; r++)); do
		: >"$WORK/times"
		(cd "$WORK" && TIMES=$WORK/times STEP_LOG=$WORK/step.log "$WORK/self-heal" run \
			--ledger off --comment=false --max-attempts 5 --patterns "$WORK/heal.yaml" \
			-- "$WORK/step.sh" >/dev/null 2>&1)
		awk '$1 == "exit" { e = $2 } $1 == "start" && e { printf "%.1f\n", ($2 - e) / 1e6 }' \
			"$WORK/times" >>"$WORK/heal.gaps"
	done
	say "  gaps (ms): $(paste -sd' ' "$WORK/heal.gaps")"
	say "  median: $(median <"$WORK/heal.gaps") ms (target <= 100)"
}

bench_go() {
	say ""
	say "Go benchmarks (matcher, hot-line filter, scanner, normaliser)"
	go test -run '^$' -bench . -benchtime 2s -count 3 ./pkg/pattern ./pkg/logscan |
		grep -E '^Benchmark' | sed 's/^/  /'
}

main() {
	install_tools
	say "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
		"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
	say "date: $(date -u +%Y-%m-%dT%H:%MZ); $(go version | cut -d' ' -f3); $(grep --version | head -1); $(rg --version | sed -n 1p)"
	build
	generate
	bench_scan
	bench_pass
	bench_memory
	bench_heal
	if [ "$GO_BENCH" = 1 ]; then
		bench_go
	fi
	say ""
	say "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

main "$@"
