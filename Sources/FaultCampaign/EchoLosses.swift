// SPDX-License-Identifier: GPL-2.0

/// Echo requests lost on one driver's interface during a campaign on the
/// kernel path, charged to the faults whose windows they fall in.
///
/// drvnucleus.ko's data path has no client of the campaign's own (the sim's
/// echo counters), so the guest pings through every NIC and its echo
/// streams (`nucleus-client echo … LOST_FILE`) write one line per request
/// whose reply never came: `lost SEQ SENT_USEC`, the send time on the wall
/// clock (CLOCK_REALTIME, µs) that the rows' ``FaultRecord/injectedAtUSec``
/// and ``FaultRecord/endedAtUSec`` use. A loss is charged to the driver's
/// fault whose window, widened by ``slackUSec`` on each side, holds its send
/// time; a driver's faults are injected one at a time, so at most the
/// slack makes two windows meet, and the nearer one takes it.
public struct EchoLosses: Sendable, Equatable {
    /// The driver (as drvctl names it) whose interface the stream used.
    public var driver: String
    /// Send times of the requests whose reply never came.
    public var sentAtUSec: [UInt64]

    /// A request sent this long before a fault was placed can still be lost
    /// by it (its reply was on the way), and one sent this long after the
    /// row ended was still the fault's doing (a chip that takes a moment).
    public static let slackUSec: UInt64 = 1_000_000

    public init(driver: String, sentAtUSec: [UInt64]) {
        self.driver = driver
        self.sentAtUSec = sentAtUSec
    }

    /// `DRIVER=FILE`, the report's `--echo-losses` argument: FILE's lines
    /// are `lost SEQ SENT_USEC`; anything else is an error naming
    /// FILE:LINE.
    public static func load(_ argument: String, reading: (String) -> String?) throws -> EchoLosses {
        guard let eq = argument.firstIndex(of: "="), eq != argument.startIndex else {
            throw CampaignError("--echo-losses \(argument): expected DRIVER=FILE")
        }
        let driver = String(argument[..<eq]), file = String(argument[argument.index(after: eq)...])
        guard let text = reading(file) else { throw CampaignError("cannot read \(file)") }
        var times: [UInt64] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let f = line.split(separator: " ")
            guard f.count == 3, f[0] == "lost", UInt16(f[1]) != nil, let t = UInt64(f[2]) else {
                throw CampaignError("\(file):\(n + 1): expected 'lost SEQ SENT_USEC', found '\(line)'")
            }
            times.append(t)
        }
        return EchoLosses(driver: driver, sentAtUSec: times)
    }

    /// Charges every loss to the fault of ``driver`` whose widened window
    /// holds it: its `echoLost` counts it, and the fault is manifested and
    /// not transparent. Returns the send times no window holds (lost while
    /// no fault was in the driver: a loss of the data path itself).
    public func charge(_ rows: inout [FaultRecord]) -> [UInt64] {
        let mine = rows.indices.filter {
            rows[$0].driver == driver && rows[$0].notInjected == nil
                && rows[$0].injectedAtUSec != nil && rows[$0].endedAtUSec != nil
        }
        var outside: [UInt64] = []
        for t in sentAtUSec {
            var best: (index: Int, distance: UInt64)?
            for i in mine {
                guard let a = rows[i].injectedAtUSec, let b = rows[i].endedAtUSec else { continue }
                let from = a > Self.slackUSec ? a - Self.slackUSec : 0, to = max(a, b) + Self.slackUSec
                guard t >= from, t <= to else { continue }
                // 0 inside the fault's own window; else how far outside.
                let d: UInt64 = t < a ? a - t : t > b ? t - b : 0
                if let b = best, b.distance <= d { continue }
                best = (i, d)
            }
            guard let best else { outside.append(t); continue }
            rows[best.index].dataPath.echoLost = (rows[best.index].dataPath.echoLost ?? 0) + 1
            rows[best.index].manifested = true
            rows[best.index].transparent = false
        }
        return outside
    }
}
