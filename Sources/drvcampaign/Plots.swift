// SPDX-License-Identifier: GPL-2.0
import FaultCampaign
import Foundation

/// The PNGs, drawn by gnuplot (Debian's gnuplot-nox) from the data files
/// ``CampaignReport/writePlotData(to:)`` wrote.
enum Plots {
    static func render(in dir: String) throws {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var script = "set terminal pngcairo size 900,560\nset key bottom right\nset grid\nset logscale x\n"
        for (what, title) in [("detect", "time to detect"), ("recover", "time to recover")] {
            let data = files.filter { $0.hasPrefix(what + "-") && $0.hasSuffix(".dat") }.sorted()
            guard !data.isEmpty else { continue }
            script += "set output '\(dir)/\(what)-cdf.png'\nset title 'Campaign: \(title), CDF per detector'\n"
            script += "set xlabel 'ms'\nset ylabel 'fraction of faults'\n"
            script += "plot " + data.map { f in
                let name = f.dropFirst(what.count + 1).dropLast(4)
                return "'\(dir)/\(f)' using 1:2 with steps title '\(name)'"
            }.joined(separator: ", ") + "\n"
        }
        script += """
            unset logscale x
            set output '\(dir)/outcomes.png'
            set title 'Campaign: outcome per fault kind'
            set style data histograms
            set style histogram rowstacked
            set style fill solid 0.8 border -1
            set boxwidth 0.8
            set xtics rotate by -40
            set ylabel 'faults'
            set xlabel ''
            set key top right
            plot '\(dir)/outcomes.dat' using 2:xtic(1) title 'not manifested', '' using 3 title 'detected, transparent', \
            '' using 4 title 'detected, not transparent', '' using 5 title 'undetected'

            """
        try script.write(toFile: dir + "/plots.gp", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/gnuplot")
        p.arguments = [dir + "/plots.gp"]
        do { try p.run() } catch { throw CampaignError("gnuplot: \(error) (install gnuplot-nox; the data is in \(dir))") }
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw CampaignError("gnuplot failed on \(dir)/plots.gp") }
    }
}
