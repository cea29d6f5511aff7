// SPDX-License-Identifier: GPL-2.0

/// When a failed u-driver is restarted, systemd style: `Restart=`,
/// `RestartSec=`, `StartLimitBurst=` within `StartLimitIntervalSec=`, with
/// exponential back-off after the first restart in the interval (MINIX's
/// reincarnation server: at once the first time, then doubling, capped).
///
/// A value with time passed in, so tests drive it on a manual clock.
public struct RestartPolicy: Sendable, Equatable {
    /// `Restart=`.
    public enum Mode: String, Sendable, CaseIterable {
        case no
        case onFailure = "on-failure"
        case always
    }

    public var mode: Mode
    /// Delay before the first restart in an interval.
    public var restartDelay: Duration
    /// Failures tolerated within `interval`.
    public var burst: Int
    public var interval: Duration
    /// First back-off step after the first restart.
    public var backoffBase: Duration = .milliseconds(10)
    /// `RestartMaxDelaySec=`: the longest delay back-off reaches; at or
    /// below `restartDelay` there is no back-off.
    public var backoffCap: Duration = .seconds(30)

    public init(mode: Mode = .onFailure, restartDelay: Duration = .zero, burst: Int = 5, interval: Duration = .seconds(60)) {
        self.mode = mode
        self.restartDelay = restartDelay
        self.burst = burst
        self.interval = interval
    }

    /// What to do about a failure.
    public enum Decision: Sendable, Equatable {
        case restart(after: Duration)
        case giveUp(String)
    }

    /// Decides, given every failure time (ns, monotonic) including the one
    /// just seen, and whether the process ended cleanly (exit status 0).
    public func decide(failures: [UInt64], now: UInt64, cleanExit: Bool = false) -> Decision {
        switch mode {
        case .no: return .giveUp("Restart=no")
        case .onFailure where cleanExit: return .giveUp("exited cleanly and Restart=on-failure")
        default: break
        }
        let window = UInt64(max(0, interval.components.seconds)) * 1_000_000_000
            + UInt64(max(0, interval.components.attoseconds) / 1_000_000_000)
        let recent = failures.filter { now >= $0 && now - $0 <= window }.count
        if recent > burst {
            return .giveUp("start limit hit: \(recent) failures within \(interval)")
        }
        guard recent > 1, backoffCap > restartDelay else { return .restart(after: restartDelay) }
        var step = backoffBase
        for _ in 0..<(recent - 2) where step < backoffCap { step = step * 2 }
        return .restart(after: min(restartDelay + step, backoffCap))
    }
}
