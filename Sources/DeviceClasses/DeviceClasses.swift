// SPDX-License-Identifier: GPL-2.0
import XPC

/// The registry of device classes: one line per class. drivermgrd finds a
/// class's shadow, reply contract, `drvctl call` operations and status
/// decoding here, by wire id or by name, and never switches on a class.
public enum DeviceClasses {
    /// Every class the daemon serves.
    public static let all: [DeviceClassDescriptor] = [
        SoundClass.descriptor,
        NetClass.descriptor,
        InputClass.descriptor,
        USBHostClass.descriptor,
    ]

    /// The descriptor of wire class `cls`, if it is registered.
    public static func descriptor(_ cls: XPCDeviceClass) -> DeviceClassDescriptor? {
        all.first { $0.wireClass == cls }
    }

    /// The class `Class=` names (its name or an alias), if registered.
    public static func named(_ name: String) -> DeviceClassDescriptor? {
        all.first { $0.name == name || $0.aliases.contains(name) }
    }

    /// The registered names, for messages (`sound, net`).
    public static var names: String { all.map(\.name).joined(separator: ", ") }
}
