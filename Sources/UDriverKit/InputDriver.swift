// SPDX-License-Identifier: GPL-2.0
import XPC

/// What an INPUT_SET asks for: each setting present is to be made, the
/// others left as they are.
public struct MouseSettings: Sendable, Equatable {
    /// Reports a second (10...200).
    public var rate: UInt8?
    /// 0...3: 1 << n counts per millimetre.
    public var resolution: UInt8?
    /// 1 (1:1) or 2 (2:1).
    public var scaling: UInt8?
    /// Whether the mouse streams packets.
    public var streaming: Bool?

    public init(rate: UInt8? = nil, resolution: UInt8? = nil, scaling: UInt8? = nil, streaming: Bool? = nil) {
        self.rate = rate
        self.resolution = resolution
        self.scaling = scaling
        self.streaming = streaming
    }

    /// Decodes an INPUT_SET; a value outside its range was refused by the decoder already.
    public init(_ m: XPCMessage) throws {
        self.init(rate: m.attribute(.mouseRate)?.u8, resolution: m.attribute(.mouseResolution)?.u8,
                  scaling: m.attribute(.mouseScaling)?.u8, streaming: m.attribute(.datapathOn).map { $0.u8 != 0 })
        guard rate != nil || resolution != nil || scaling != nil || streaming != nil else {
            throw UDriverError.invalid(.mouseRate, "INPUT_SET names no setting")
        }
    }

    /// The attributes of an INPUT_SET making these settings.
    public var attributes: [XPCAttribute] {
        var a: [XPCAttribute] = []
        if let rate { a.append(.u8(.mouseRate, rate)) }
        if let resolution { a.append(.u8(.mouseResolution, resolution)) }
        if let scaling { a.append(.u8(.mouseScaling, scaling)) }
        if let streaming { a.append(.u8(.datapathOn, streaming ? 1 : 0)) }
        return a
    }
}

/// An input u-driver: the control half of a serio mouse driver (Linux's
/// psmouse): everything but the byte interrupt and packet assembly, which
/// the nucleus keeps. Each method is an upcall; the runtime calls them one
/// at a time.
public protocol InputDriver: UDriver {
    /// Make `settings`. With `reattach` (a replay into a new u-driver of a
    /// mouse that kept streaming) a setting the device already has is not
    /// sent again: the packet stream must not stop.
    func set(_ settings: MouseSettings, reattach: Bool) async throws
    /// The nucleus dropped bytes to find the packet boundary again: check
    /// the mouse is still there and speaking the same protocol.
    func resync() async throws
}

extension InputDriver {
    public static var deviceClass: XPCDeviceClass { .input }
    public static var settingOps: Set<XPCOp> { [.inputSet] }

    /// The input upcalls → ``InputDriver``'s methods.
    public func dispatch(_ m: XPCMessage) async throws -> [XPCAttribute] {
        switch m.op {
        case .inputSet: try await set(try MouseSettings(m), reattach: m.flags.contains(.reattach))
        case .inputResync: try await resync()
        default:
            throw UDriverError(errno: 95, "\(m.op.name) is not an input upcall")
        }
        return []
    }
}
