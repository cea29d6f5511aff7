# The plots of `make bench`, from the samples xpc-bench wrote.
#   gnuplot -e "dir='DIR'" scripts/bench-plots.gp
# Each plot is drawn only if its data is there (a run may skip a section).
if (!exists("dir")) dir = "bench"
set terminal pngcairo size 900,560 font ",10"
set grid
set key bottom right

f(name) = dir . "/" . name . ".dat"
have(name) = system("test -s '" . f(name) . "' && echo 1 || echo 0") eq "1"

# 1. XPC round-trip latency: histogram of each path beside the raw baseline.
if (have("xpc-raw")) {
    set output dir . "/xpc-latency.png"
    set title "XPC round trip, beside a raw socketpair ping-pong (same run, interleaved)"
    set xlabel "round trip (us)"
    set ylabel "share of round trips"
    set key top right
    bin(x) = 2 * floor(x / 2) + 1
    stats f("xpc-raw") using 1 name "RAW" nooutput
    stats f("xpc-null") using 1 name "NULL" nooutput
    stats f("xpc-chain") using 1 name "CHAIN" nooutput
    set xrange [0:200]
    plot f("xpc-raw") using (bin($1)):(1.0 / RAW_records) smooth frequency with steps lw 2 title "raw socketpair (baseline)", \
         f("xpc-null") using (bin($1)):(1.0 / NULL_records) smooth frequency with steps lw 2 title "daemon <-> u-driver null call", \
         f("xpc-chain") using (bin($1)):(1.0 / CHAIN_records) smooth frequency with steps lw 2 title "nucleus -> daemon -> u-driver -> nucleus"
    unset xrange
    set key bottom right
}

# 2. Recovery time CDFs beside a bare spawn of the same u-driver.
if (have("recovery-rtl8139_standby_yes")) {
    set output dir . "/recovery-cdf.png"
    set title "Recovery after SIGKILL (detection to serving), beside a bare spawn to HELLO"
    set xlabel "time (ms)"
    set ylabel "fraction of recoveries"
    stats f("recovery-rtl8139_standby_yes") using 1 name "RY" nooutput
    stats f("recovery-rtl8139_standby_no") using 1 name "RN" nooutput
    stats f("recovery-ens1371_standby_yes") using 1 name "EY" nooutput
    stats f("spawn-rtl8139") using 1 name "SP" nooutput
    set logscale x
    set yrange [0:1]
    plot f("recovery-rtl8139_standby_yes") using ($1 / 1000):($0 / RY_records) with lines lw 2 title "rtl8139, Standby=yes", \
         f("recovery-ens1371_standby_yes") using ($1 / 1000):($0 / EY_records) with lines lw 2 title "ens1371, Standby=yes", \
         f("recovery-rtl8139_standby_no") using ($1 / 1000):($0 / RN_records) with lines lw 2 title "rtl8139, Standby=no", \
         f("spawn-rtl8139") using ($1 / 1000):($0 / SP_records) with lines lw 2 dt 2 title "bare spawn of rtl8139 to HELLO"
    unset logscale x
    unset yrange
}

# 3. Recovery phases: p50 of each phase, a bar per configuration.
if (have("phases")) {
    set output dir . "/recovery-phases.png"
    set title "Where recovery's time goes: p50 of each phase"
    set xlabel "phase"
    set ylabel "p50 (us)"
    set style data histograms
    set style histogram clustered gap 1
    set style fill solid 0.8 border -1
    set key top right
    set xtics rotate by 0
    hdr = system("head -1 '" . f("phases") . "'")
    ncols = words(hdr) - 2
    plot for [c = 2:ncols + 1] f("phases") using c:xtic(1) title word(hdr, c + 1) noenhanced
    unset style data
    set key bottom right
}

# 4. Scale: recovery and the daemon's memory against the number of drivers.
if (have("scale")) {
    set output dir . "/scale.png"
    set multiplot layout 1,2 title "One drivermgrd, N RTL8139s from one template (standbys on)"
    set logscale x
    set xlabel "drivers (N)"
    set title "recovery under a SIGKILL every 0.1 s"
    set ylabel "ms"
    set key top left
    plot f("scale") using 1:9 with linespoints lw 2 title "p50", \
         f("scale") using 1:10 with linespoints lw 2 title "p99"
    set title "memory and idle CPU"
    set ylabel "MB"
    set y2label "% of one core"
    set y2tics
    plot f("scale") using 1:3 with linespoints lw 2 title "drivermgrd RSS (MB)", \
         f("scale") using 1:4 with linespoints lw 2 title "u-driver PSS (MB)", \
         f("scale") using 1:6 axes x1y2 with linespoints lw 2 title "idle CPU, whole tree (%)"
    unset multiplot
}
