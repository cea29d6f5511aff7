// SPDX-License-Identifier: GPL-2.0
import XPC

/// What a shadow does with a request while its driver is being recovered.
public enum ShadowAnswer: Sendable, Equatable {
    /// Answer now, from the shadow's state (getters).
    case reply([XPCAttribute])
    /// Keep it for the recovered driver, in order (setters).
    case queue
}

/// One call of a shadow's log: an op and the request's attributes.
public struct ShadowCall: Sendable, Equatable {
    public let op: XPCOp
    public let attributes: [XPCAttribute]
    public init(_ op: XPCOp, _ attributes: [XPCAttribute] = []) {
        self.op = op
        self.attributes = attributes
    }
}

/// One completed call a shadow is rebuilt from: the request's and the
/// reply's attributes.
public struct ShadowRecord: Sendable, Equatable {
    public let op: XPCOp
    public let request: [XPCAttribute]
    public let reply: [XPCAttribute]
    public init(_ op: XPCOp, request: [XPCAttribute] = [], reply: [XPCAttribute] = []) {
        self.op = op
        self.request = request
        self.reply = reply
    }
}

/// A setting the device holds differently from what the shadow says the
/// driver programmed (`drvctl verify`, the fault campaign's check for
/// silent corruption).
public struct ShadowDivergence: Sendable, Equatable, Codable, CustomStringConvertible {
    /// What differs, in the class's words (`MAC`, `rx mode`, `PCM rate`).
    public let setting: String
    /// What the shadow recorded.
    public let expected: String
    /// What the nucleus read back from the device.
    public let found: String
    public init(setting: String, expected: String, found: String) {
        self.setting = setting
        self.expected = expected
        self.found = found
    }
    public var description: String { "\(setting): shadow has \(expected), device has \(found)" }
}

/// The shadow state of one device class (Shadow Drivers, OSDI'04): each
/// class (sound, net, …) brings its own conforming value type and its
/// descriptor makes an empty one. The broker only ever sees ``Shadow``.
///
/// Passive, it records every state-building call the driver completed,
/// keeping only what still matters (the last value per control, the last
/// hw_params, the last MAC…). Active, it answers getters from that state
/// and queues setters. For recovery it gives the compacted log to replay.
public protocol ClassShadow: Sendable {
    /// The ops whose completion may change this state (what ``record(_:reply:)``
    /// keeps); every other op must leave it as it was.
    var keptOps: Set<XPCOp> { get }
    /// Passive mode: `request` completed with `reply` (status 0).
    mutating func record(_ request: XPCMessage, reply: XPCMessage)
    /// Active mode: answer `request` from the state, or queue it.
    func answer(_ request: XPCMessage) -> ShadowAnswer
    /// The calls to replay into a fresh driver, in order.
    var log: [ShadowCall] { get }
    /// The completed calls that rebuild this state when fed, in order, to
    /// ``record(_:reply:)`` of an empty one: the log, plus the getters'
    /// last answers.
    var records: [ShadowRecord] { get }
    /// The settings the device (DEVICE_INFO: what the nucleus read back
    /// from its registers) holds differently from this state, and how many
    /// settings were compared. A class compares only what its nucleus
    /// reports in chip-independent terms.
    func divergences(from deviceInfo: XPCMessage) -> (compared: Int, differing: [ShadowDivergence])
}

/// The shadow of one driver instance: a class's ``ClassShadow`` behind
/// the interface the broker uses. A value type: the broker keeps it under
/// its lock.
public struct Shadow: Sendable {
    /// The class's state.
    public private(set) var state: any ClassShadow

    /// A shadow holding `state` (an empty one from the class's descriptor).
    public init(_ state: any ClassShadow) {
        self.state = state
    }

    /// `empty` rebuilt from ``records(instance:)``. Calls that are not the
    /// class's state are ignored, as ``record(_:reply:)`` ignores them.
    public init(_ empty: any ClassShadow, rebuiltFrom records: [(request: XPCMessage, reply: XPCMessage)]) {
        self.init(empty)
        for r in records { record(r.request, reply: r.reply) }
    }

    /// Whether calls of `op` are part of the shadow's state (what
    /// ``record(_:reply:)`` keeps); others leave it as it was.
    public func keeps(_ op: XPCOp) -> Bool { state.keptOps.contains(op) }

    /// Passive mode: `request` completed with `reply`; failed calls are
    /// not recorded.
    public mutating func record(_ request: XPCMessage, reply: XPCMessage) {
        guard reply.status == 0, keeps(request.op) else { return }
        state.record(request, reply: reply)
    }

    /// Active mode: answer `request` or queue it.
    public func answer(_ request: XPCMessage) -> ShadowAnswer { state.answer(request) }

    /// How the device read back (DEVICE_INFO) differs from this shadow.
    public func divergences(from deviceInfo: XPCMessage) -> (compared: Int, differing: [ShadowDivergence]) {
        state.divergences(from: deviceInfo)
    }

    /// The calls to replay after PROBE, in order, each flagged REATTACH so
    /// the fresh driver adopts the running device; with `reattach: false`
    /// (after a probe that reset the device) unflagged, so that they
    /// program it again from scratch.
    public func replayLog(instance: UInt32, reattach: Bool = true) -> [XPCMessage] {
        state.log.map { XPCMessage(op: $0.op, flags: reattach ? [.request, .reattach] : .request, instance: instance,
                                   attributes: $0.attributes) }
    }

    /// The shadow as the completed calls that rebuild it (see
    /// ``ClassShadow/records``). This is what drivermgrd persists, so a
    /// restarted daemon can still replay a driver it adopted from its
    /// predecessor.
    public func records(instance: UInt32) -> [(request: XPCMessage, reply: XPCMessage)] {
        state.records.map { r in
            let m = XPCMessage(op: r.op, flags: .request, instance: instance, attributes: r.request)
            return (m, XPCMessage.reply(to: m, attributes: r.reply))
        }
    }
}
