# Draws the serve benchmark's plot from the tables bench/serve-bench.sh writes:
#   gnuplot -e "dir='PLOT_DATA_DIR'; out='x.png'" bench/serve-plot.gp
# Top: median req/s of keel and Netty relative to nginx, per file size x connections (1.0 =
# nginx). Bottom: server CPU time per request (log scale).
rel = dir."/rel.dat"
cpu = dir."/cpu.dat"

set terminal pngcairo size 1400,1000 font "DejaVu Sans,11" noenhanced
set output out
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside right top vertical
set grid ytics lc rgb "#dddddd"
set xtics nomirror
set multiplot layout 2,1 title "Static files: server on CPU 0 (one loop / worker), wrk on CPU 1, keep-alive (medians of the quiet runs, see BENCH-SERVE.md)"

set title "req/s relative to nginx (higher is better); case = file size x connections"
set ylabel "x nginx"
set yrange [0:*]
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb "#444444" dt 2 front
plot for [i=2:4] rel using i:xtic(1) title columnheader(i)
unset arrow 1

set title "server CPU time per request (lower is better)"
set ylabel "µs (log scale)"
set logscale y
set yrange [*:*]
plot for [i=2:4] cpu using i:xtic(1) title columnheader(i)
unset multiplot
