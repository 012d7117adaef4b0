# soak.gp: the soak's figures (tsv, from tests/soak/run.sh) as one PNG
# (png): oomguard's RSS, its descriptors, its CPU time and the app's
# restarts against the minutes. gnuplot -e "tsv='...'; png='...'" soak.gp
set terminal pngcairo size 900,900 font ",10"
set output png
set datafile separator "\t"
set key autotitle columnhead left top
set multiplot layout 3,1 title "oomguard soak: gcsim churning, served by gc requests, restarted as it exits"
set xlabel "minute"
set ylabel "KiB"
set yrange [0:*]
set offsets 0, 0, graph 0.15, 0
plot tsv using 1:2 with linespoints title "oomguard RSS (KiB)"
set ylabel "descriptors"
plot tsv using 1:3 with linespoints title "open descriptors"
set ylabel "seconds / count"
plot tsv using 1:4 with linespoints title "CPU time (s)", \
     tsv using 1:5 with steps title "app restarts"
unset multiplot
