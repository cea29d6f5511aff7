// SPDX-License-Identifier: GPL-2.0

/// SplitMix64: a small, seedable generator, so that every fault of a
/// campaign is chosen from its own seed and can be chosen again.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// How a fault reaches the u-driver.
public enum FaultFamily: String, Codable, Sendable {
    /// The u-driver runtime acts it out on request (`drvctl inject`).
    case runtime
    /// A signal from outside (the admin's `kill -9`, the OOM killer).
    case signal
    /// Machine code or registers changed through ptrace (MINIX 3 / Nooks style).
    case mutation
    /// drivermgrd itself SIGKILLed (scheduled by ``CampaignRunner/DaemonKills``,
    /// not drawn from the mix).
    case daemon
}

/// One kind of fault the campaign injects, with its share of the mix.
public struct FaultKind: Sendable, Hashable {
    /// Its name in the results (`crash`, `sigkill`, `invert-branch`).
    public let name: String
    public let family: FaultFamily
    /// Relative weight in the random mix.
    public let weight: Int
    /// The driver classes it is placed in; nil: every class. `lost-write`
    /// needs a class whose shadow reads back what the exercise sets.
    public let classes: [String]?
    /// Whether the daemon can find it only by a deadline running out (a
    /// hang, an answer too slow): it shows a heartbeat period plus
    /// XPCTimeoutSec= after it is placed, not at once, and the runner
    /// watches for it over ``CampaignRunner/Settings/deadlineWindow``.
    public let foundByDeadline: Bool

    public init(_ name: String, _ family: FaultFamily, weight: Int, classes: [String]? = nil,
                foundByDeadline: Bool = false) {
        self.name = name
        self.family = family
        self.weight = weight
        self.classes = classes
        self.foundByDeadline = foundByDeadline
    }

    /// Every kind the campaign knows, one line each.
    public static let all: [FaultKind] = [
        FaultKind("crash", .runtime, weight: 3),
        FaultKind("abort", .runtime, weight: 3),
        FaultKind("hang", .runtime, weight: 2, foundByDeadline: true),
        FaultKind("slow", .runtime, weight: 2, foundByDeadline: true),
        FaultKind("bad-param", .runtime, weight: 3),
        FaultKind("garbage", .runtime, weight: 3),
        FaultKind("memory", .runtime, weight: 1),
        FaultKind("syscall", .runtime, weight: 3),
        FaultKind("fork-bomb", .runtime, weight: 3),
        FaultKind("flood", .runtime, weight: 1),
        FaultKind("lost-write", .runtime, weight: 3, classes: ["net", "input", "usb-host"]),
        FaultKind("sigkill", .signal, weight: 3),
        FaultKind("bit-flip", .mutation, weight: 12),
        FaultKind("invert-branch", .mutation, weight: 12),
        FaultKind("nop", .mutation, weight: 12),
        FaultKind("register", .mutation, weight: 6),
        FaultKind("stack-pointer", .mutation, weight: 6),
        daemonKill,
    ]

    /// drivermgrd's SIGKILL: weight 0, the runner schedules it every N faults.
    public static let daemonKill = FaultKind("daemon-kill", .daemon, weight: 0)

    /// The kind named `name`.
    public static func named(_ name: String) -> FaultKind? { all.first { $0.name == name } }
}

/// What the campaign injects, and how each fault is chosen.
public struct FaultPlan: Sendable {
    public let kinds: [FaultKind]
    public let seed: UInt64
    private let total: Int

    public init(kinds: [FaultKind], seed: UInt64) {
        self.kinds = kinds.filter { $0.weight > 0 }
        self.seed = seed
        self.total = self.kinds.reduce(0) { $0 + $1.weight }
    }

    /// The seed of fault number `index`: the campaign's seed and the index
    /// mixed, so one fault can be drawn again without the others.
    public func seed(of index: UInt64) -> UInt64 {
        var r = SeededRandom(seed: seed ^ (index &* 0xd6e8_feb8_6659_fd93))
        return r.next()
    }

    /// The kind fault `seed` injects.
    public func kind(for seed: UInt64) -> FaultKind? {
        guard total > 0 else { return nil }
        var r = SeededRandom(seed: seed)
        var pick = Int(r.next() % UInt64(total))
        for k in kinds {
            if pick < k.weight { return k }
            pick -= k.weight
        }
        return kinds.last
    }
}
