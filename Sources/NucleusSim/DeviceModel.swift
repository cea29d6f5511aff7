// SPDX-License-Identifier: GPL-2.0
import XPC

/// A register-level model of one device. Accessed only under the nucleus
/// lock; `tick` advances device time (DMA engines, link, timers).
/// Models are `@unchecked Sendable`: the nucleus lock, not the type, keeps
/// them consistent; every access happens under it.
public protocol DeviceModel: AnyObject, Sendable {
    /// Who the device is on its bus (a PCI function's ids, BAR and IRQ; a
    /// serio port's type and name).
    var identity: DeviceIdentity { get }
    /// Register read of `width` bytes (1, 2, 4) at `offset` inside BAR 0
    /// (never called for a device without registers: barSize 0).
    func read(offset: UInt32, width: Int) -> UInt32
    /// Register write.
    func write(offset: UInt32, width: Int, value: UInt32)
    /// Advances device time by `nanos`.
    func tick(nanos: UInt64, memory: SimMemory)
    /// As ``tick(nanos:memory:)``, calling `interrupt` (the nucleus's
    /// handler) whenever the device raises its line inside that time; by
    /// default the plain tick, the handler left to the pass after it.
    func tick(nanos: UInt64, memory: SimMemory, interrupt: () -> Void)
    /// Whether the interrupt line is asserted.
    var irqAsserted: Bool { get }
    /// The BAR's registers as bytes, for `drvctl status`.
    func snapshot() -> [UInt8]
    /// The host memory the device reaches by DMA outside its tick (a chip
    /// that reads memory in answer to a register write); the nucleus
    /// attaches it once.
    func attach(memory: SimMemory)
}

extension DeviceModel {
    public func attach(memory: SimMemory) {}
    public func tick(nanos: UInt64, memory: SimMemory, interrupt: () -> Void) {
        tick(nanos: nanos, memory: memory)
    }
}

/// A little-endian register file with byte/word/dword access, the storage
/// most models build on.
struct RegisterFile {
    var bytes: [UInt8]
    init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }

    func get(_ off: Int, _ width: Int) -> UInt32 {
        var v: UInt32 = 0
        for i in 0..<width where off + i < bytes.count { v |= UInt32(bytes[off + i]) << (8 * UInt32(i)) }
        return v
    }
    mutating func set(_ off: Int, _ width: Int, _ v: UInt32) {
        for i in 0..<width where off + i < bytes.count { bytes[off + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
    func u8(_ off: Int) -> UInt8 { UInt8(get(off, 1)) }
    func u16(_ off: Int) -> UInt16 { UInt16(get(off, 2)) }
    func u32(_ off: Int) -> UInt32 { get(off, 4) }
}
