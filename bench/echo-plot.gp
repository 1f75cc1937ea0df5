# Draws the echo benchmark's plot from the tables EchoReport writes (see bench/echo-bench.sh):
#   gnuplot -e "rel='rel.dat'; p99='p99.dat'; out='x.png'; cols=N" bench/echo-plot.gp
# Top: median req/s of each server relative to C epoll, per scenario (1.0 = C epoll).
# Bottom: median p99 latency per scenario, log scale.
set terminal pngcairo size 1500,1100 font "DejaVu Sans,11" noenhanced
set output out
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top vertical
set grid ytics lc rgb "#dddddd"
set xtics nomirror
set multiplot layout 2,1 title "Echo benchmark: one loop, server on CPU 0, load on CPU 1 (median of rounds)"

set title "req/s relative to C epoll (higher is better; C's absolute req/s under each scenario)"
set ylabel "x C epoll"
set yrange [0:*]
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb "#444444" dt 2 front
plot for [i=2:cols] rel using i:xtic(1) title columnheader(i)
unset arrow 1

set title "p99 round-trip latency (lower is better)"
set ylabel "µs (log scale)"
set logscale y
set yrange [*:*]
plot for [i=2:cols] p99 using i:xtic(1) title columnheader(i)
unset multiplot
