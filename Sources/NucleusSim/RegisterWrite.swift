// SPDX-License-Identifier: GPL-2.0
import XPC

/// A register write a downcall is about to make, as a chip's write check
/// sees it (module/drvnucleus.h's `write_check`): REG_WRITE, each write
/// step of a REG_SEQ as it comes, and REG_WRITE_DMA with `dma` set.
/// Without an IOMMU a chip's DMA goes wherever its registers say, so a
/// register that holds a bus address takes REG_WRITE_DMA's only, and a
/// field that sizes a transfer must fit the buffer it is for.
struct RegisterWrite {
    let offset: UInt32
    let width: Int
    let value: UInt32
    /// REG_WRITE_DMA's: `value` is a bus address the nucleus made from a
    /// buffer of the device's.
    let dma: Bool

    /// Whether the write overlaps the register `[reg, reg + length)`.
    func touches(_ reg: UInt32, _ length: UInt32 = 4) -> Bool {
        offset < reg &+ length && offset &+ UInt32(width) > reg
    }

    /// The 32-bit register at `reg` after the write (which lies inside
    /// it), the other bytes as `current` reads them (drvnucleus_merged).
    /// With `size` 1 or 2, the register of that many bytes at `reg` after
    /// a write of any width that overlaps it (rtl_merged_narrow).
    func merged(_ reg: UInt32, size: UInt32 = 4, current: () -> UInt32) -> UInt32 {
        if size < 4 {
            var v = current()
            for i in 0..<UInt32(width) {
                let a = offset &+ i
                guard a >= reg, a < reg + size else { continue }
                let sh = (a - reg) * 8
                v = (v & ~(0xff << sh)) | (((value >> (i * 8)) & 0xff) << sh)
            }
            return v
        }
        if width == 4 && offset == reg { return value }
        let shift = (offset &- reg) &* 8
        let mask: UInt32 = (width >= 4 ? .max : (1 << UInt32(8 * width)) - 1) << shift
        return (current() & ~mask) | ((value << shift) & mask)
    }

    /// Whether this is REG_WRITE_DMA's address written whole to the 32-bit
    /// register at `reg`.
    func isDMAAddress(at reg: UInt32) -> Bool { dma && offset == reg && width == 4 }
}

/// A write the chip refuses: EPERM for a register only REG_WRITE_DMA may
/// write (or one the nucleus's data path owns), EINVAL for a value out of
/// bounds; `why` goes into the reply's message.
struct WriteRefusal: Error, Equatable {
    let errno: Int32
    let why: String

    static func notPermitted(_ why: String) -> WriteRefusal { WriteRefusal(errno: 1, why: why) }
    static func invalid(_ why: String) -> WriteRefusal { WriteRefusal(errno: 22, why: why) }
}
