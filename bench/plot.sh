#!/usr/bin/env bash
# Makes the plots of docs/performance.md from a crossproc-bench JSON file:
#   bash bench/plot.sh results.json docs/performance
# writes <prefix>-latency.png and <prefix>-throughput.png. Needs gnuplot (apt-get install gnuplot-nox).
set -euo pipefail
json=$1
prefix=$2
data=$(mktemp)
trap 'rm -f "$data"' EXIT
value() { grep "\"$1\"" "$json" | sed -E 's/.*: ([0-9.eE+-]+).*/\1/'; }

cat > "$data.latency" <<DATA
"socketpair\nround trip" $(value socketpair_rtt_us)
"Cap'n Proto\nnull call" $(value capnp_call_us)
"crossproc\nnull call" $(value call_us)
"crossproc\ncallback" $(value callback_us)
"null call,\npolling 50 us" $(value call_spin50_us)
"callback,\npolling 50 us" $(value callback_spin50_us)
"crossproc\n4 KiB" $(value data_4kib_us)
"crossproc object\ncreate+destroy" $(value object_create_destroy_us)
DATA
cat > "$data.throughput" <<DATA
"1 thread" $(value threads_1_calls_per_s)
"2 threads" $(value threads_2_calls_per_s)
"4 threads" $(value threads_4_calls_per_s)
"8 threads" $(value threads_8_calls_per_s)
"64 async\n(crossproc)" $(value async64_calls_per_s)
"64 async\n(Cap'n Proto)" $(value capnp_async64_calls_per_s)
DATA
gnuplot <<GNUPLOT
set terminal pngcairo size 900,460 font ",10"
set bmargin 5
set style fill solid 0.8
set boxwidth 0.6
set grid ytics
set yrange [0:*]
set output "$prefix-latency.png"
set title "Time per call, two processes (lower is better)"
set ylabel "microseconds"
plot "$data.latency" using 0:2:xtic(1) with boxes notitle lc rgb "#3465a4", \
     "" using 0:2:(sprintf("%.1f", \$2)) with labels offset 0,1 notitle
set output "$prefix-throughput.png"
set title "Calls per second, two processes (higher is better)"
set ylabel "calls/s"
plot "$data.throughput" using 0:2:xtic(1) with boxes notitle lc rgb "#73a946", \
     "" using 0:2:(sprintf("%.0f", \$2)) with labels offset 0,1 notitle
GNUPLOT
rm -f "$data.latency" "$data.throughput"
