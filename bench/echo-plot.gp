# Draws the echo benchmark's plot from the tables EchoReport writes (see bench/echo-bench.sh):
#   gnuplot -e "dir='PLOT_DATA_DIR'; out='x.png'" bench/echo-plot.gp
# Top: median req/s of each server relative to C epoll, per scenario (1.0 = C epoll); the
# busy-poll rows are named in the title (caption.txt), not drawn. Bottom: median p99 latency.
# The echo matrix draws one such plot per message size, its title from title.txt.
rel = dir."/rel.dat"
p99 = dir."/p99.dat"
caption = system("cat '".dir."/caption.txt'")
title = system("cat '".dir."/title.txt' 2>/dev/null")
if (title eq "") title = "Echo benchmark: one loop, server on CPU 0, load on CPU 1 (median of rounds)"
relcols = int(system("head -n 1 '".rel."' | wc -w"))
p99cols = int(system("head -n 1 '".p99."' | wc -w"))

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
set multiplot layout 2,1 title title

# The servers sit within a few percent of each other here, so the axis starts near them
# (it widens when a server falls further behind).
set title "req/s relative to C epoll (higher is better; C's absolute req/s under each column)".(caption eq "" ? "" : "\n".caption)
set ylabel "x C epoll (axis does not start at 0)"
set yrange [*<0.8:1.2<*]
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb "#444444" dt 2 front
plot for [i=2:relcols] rel using i:xtic(1) title columnheader(i)
unset arrow 1

set title "p99 round-trip latency (lower is better)"
set ylabel "µs (log scale)"
set logscale y
set yrange [*:*]
plot for [i=2:p99cols] p99 using i:xtic(1) title columnheader(i)
unset multiplot
