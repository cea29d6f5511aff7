// SPDX-License-Identifier: GPL-2.0
import XPC

/// An input u-driver: the control half of a serio mouse driver (Linux's
/// psmouse): everything but the byte interrupt and packet assembly, which
/// the nucleus keeps. Each method is an upcall; the runtime calls them one
/// at a time.
public protocol InputDriver: UDriver {
    /// Make `settings`. With `reattach` (a replay into a new u-driver of a
    /// mouse that kept streaming) a setting the device already has is not
    /// sent again: the packet stream must not stop.
    func set(_ settings: MouseSettings, reattach: Bool) async throws
    /// The nucleus lost the packet boundary, or the mouse spoke after a
    /// silence of the idle check's length: check the mouse is still there,
    /// speaking the same protocol with the same settings, and end the
    /// check with ENABLE.
    func resync() async throws
}

extension InputDriver {
    public static var deviceClass: XPCDeviceClass { .input }
    public static var settingOps: Set<XPCOp> { [.inputSet] }

    /// The input upcalls → ``InputDriver``'s methods.
    public func dispatch(_ m: XPCMessage) async throws -> [XPCAttribute] {
        switch m.op {
        case .inputSet:
            let settings = MouseSettings(m)
            guard !settings.isEmpty else { throw UDriverError.invalid(.mouseRate, "INPUT_SET names no setting") }
            try await set(settings, reattach: m.flags.contains(.reattach))
        case .inputResync: try await resync()
        default:
            throw UDriverError(errno: 56, "\(m.op.name) is not an input upcall")
        }
        return []
    }
}
