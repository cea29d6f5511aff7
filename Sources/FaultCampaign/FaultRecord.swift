// SPDX-License-Identifier: GPL-2.0
import ControlInterface

/// Where a code mutation or register fault landed (from the injector).
public struct FaultTarget: Codable, Sendable, Equatable {
    /// The function (demangled when the injector could).
    public var function: String?
    /// The address in the u-driver process.
    public var address: UInt64?
    /// What changed, in words (`jne -> je`, `rax bit 17`).
    public var detail: String?
    public init(function: String? = nil, address: UInt64? = nil, detail: String? = nil) {
        self.function = function
        self.address = address
        self.detail = detail
    }
}

/// The data path across one fault: counters read from the nucleus
/// before the fault and once the driver serves again.
public struct DataPathDelta: Codable, Sendable, Equatable {
    /// Net: frames the client sent and the nucleus has not yet seen echoed
    /// (in flight plus lost), before and after.
    public var gapBefore: Int64?
    public var gapAfter: Int64?
    /// Net: frames the chip dropped (rx missed) during the fault.
    public var dropped: UInt64?
    /// Sound: DAC underruns and stale-data glitches during the fault.
    public var underruns: UInt64?
    public var glitches: UInt64?
    /// Input: packets the input device's reader saw missing, repeated or
    /// decoded wrong during the fault.
    public var inputLost: UInt64?
    /// Net on the kernel path: echo requests through the interface whose
    /// reply never came, sent within the fault's window (charged after the
    /// run from the guest's echo streams: ``EchoLosses``).
    public var echoLost: UInt64?
    public init() {}

    /// Frames in flight at any moment on the sim's and the guest's paths
    /// (the client's ring): a gap up to this is not loss.
    public static let inFlight: Int64 = 8

    /// Frames or periods lost: dropped and starved, plus a gap that grew
    /// beyond what can be in flight.
    public var lost: UInt64 {
        var n = (dropped ?? 0) + (underruns ?? 0) + (glitches ?? 0) + (inputLost ?? 0) + (echoLost ?? 0)
        if let b = gapBefore, let a = gapAfter, a > max(b, Self.inFlight) { n += UInt64(a - max(b, Self.inFlight)) }
        return n
    }
}

/// One injected fault and what became of it: one JSONL row.
public struct FaultRecord: Codable, Sendable, Equatable {
    public var index: UInt64
    public var seed: UInt64
    public var driver: String
    public var driverClass: String
    public var kind: String
    public var family: FaultFamily
    public var target: FaultTarget?
    /// When the fault was placed and when its row was finished (the driver
    /// serving again, or given up), wall clock (CLOCK_REALTIME) µs: the
    /// window a loss seen outside the campaign (``EchoLosses``) is charged
    /// to. nil for a fault not placed.
    public var injectedAtUSec: UInt64?
    public var endedAtUSec: UInt64?
    /// The fault could not be placed (driver not active, mutation target
    /// never reached): not counted as injected.
    public var notInjected: String?
    /// A failure was reported, a client saw an error, the device diverged
    /// or the driver did not come back.
    public var manifested = false
    /// drivermgrd reported a failure for it.
    public var detected = false
    /// Which detector (crash, timeout, heartbeat, bad-parameter, protocol, sandbox, divergence).
    public var detector: FailureKind?
    public var failureDetail: String?
    /// The failure was reported after the watch window (the fault lay
    /// latent until a later call ran the changed code).
    public var lateDetection = false
    /// Recovered with the client seeing no error, the device as the shadow
    /// says, the driver active.
    public var transparent = false
    /// The exercise call's error, if the client saw one.
    public var clientError: String?
    /// Settings the device held differently from the shadow afterwards.
    public var divergences: [DeviceDivergence] = []
    /// Diverged with no failure reported.
    public var silentCorruption = false
    /// Injection to the failure report, microseconds.
    public var detectUSec: UInt64?
    /// Detection to serving again (the daemon's measure), microseconds.
    public var recoverUSec: UInt64?
    /// Recovery attempts that failed before one succeeded (each started
    /// over, counting against the start limit), and why the first failed.
    public var recoveryRetries = 0
    public var retryDetail: String?
    public var dataPath = DataPathDelta()
    public var daemonAlive = true
    /// The driver's state once the fault was over.
    public var endState: DriverState?

    public init(index: UInt64, seed: UInt64, driver: String, driverClass: String, kind: FaultKind) {
        self.index = index
        self.seed = seed
        self.driver = driver
        self.driverClass = driverClass
        self.kind = kind.name
        self.family = kind.family
    }

    /// Classifies the fault from what was observed after it.
    /// - Parameters:
    ///   - failure: the first failure event drivermgrd reported for it.
    ///   - recovered: its `recovered` event, if any.
    ///   - gaveUp: the `failed` event: drivermgrd gave the driver up.
    public mutating func classify(failure: DriverEvent?, recovered: DriverEvent?, gaveUp: DriverEvent?,
                                  injectedAtUSec: UInt64) {
        detected = failure != nil
        detector = failure?.failureKind
        failureDetail = failure?.detail
        if let f = failure { detectUSec = f.timeUSec >= injectedAtUSec ? f.timeUSec - injectedAtUSec : 0 }
        recoverUSec = recovered?.recoveryUSec
        silentCorruption = !detected && !divergences.isEmpty
        manifested = detected || clientError != nil || !divergences.isEmpty || endState != .active || gaveUp != nil
        transparent = detected && recovered != nil && gaveUp == nil && clientError == nil && divergences.isEmpty
            && endState == .active && dataPath.lost == 0 && daemonAlive
    }
}
