// SPDX-License-Identifier: GPL-2.0
// What the 8254x's registers mean to the u-driver: the register map itself
// is module/include/chips/e1000_regs.h (imported through CChips, used by its
// C names); here are the values composed from it.
import CChips
import UDriverKit
import XPC

/// MDIC commands for the internal PHY (address 1).
enum MDIC {
    /// Read PHY register `reg`.
    static func read(_ reg: UInt32) -> UInt32 {
        E1000_MDIC_OP_READ | reg << E1000_MDIC_REG_SHIFT | E1000_MDIC_PHY_ADDR << E1000_MDIC_PHY_SHIFT
    }
    /// Write `value` to PHY register `reg`.
    static func write(_ reg: UInt32, _ value: UInt16) -> UInt32 {
        E1000_MDIC_OP_WRITE | reg << E1000_MDIC_REG_SHIFT | E1000_MDIC_PHY_ADDR << E1000_MDIC_PHY_SHIFT | UInt32(value)
    }
    /// The steps of one PHY access: the command, then a poll for READY whose
    /// result is MDIC (data in the low 16 bits, ERROR if the PHY refused).
    static func steps(_ command: UInt32) -> [RegisterStep] {
        [.write(E1000_MDIC, command, width: 4),
         .poll(E1000_MDIC, mask: E1000_MDIC_READY, equals: E1000_MDIC_READY, width: 4)]
    }
}

/// The receive filter: RCTL's promiscuous bits and the multicast table.
enum RxFilter {
    /// e1000_hash_mc_addr with mc_filter_type 0 (RCTL.MO = 0): bits 47:36
    /// of the address, i.e. the high nibble of byte 4 and all of byte 5.
    static func hash(_ a: MACAddress) -> Int {
        (Int(a.bytes[4]) >> 4 | Int(a.bytes[5]) << 4) & 0xfff
    }

    /// RCTL.UPE/MPE for a mode, as e1000_set_rx_mode.
    static func rctlBits(_ mode: RxMode) -> UInt32 {
        if mode.promiscuous { return E1000_RCTL_UPE | E1000_RCTL_MPE }
        return mode.allMulticast ? E1000_RCTL_MPE : 0
    }

    /// The 128 MTA dwords for a mode: one bit per group's hash (register
    /// hash >> 5, bit hash & 31). Every group goes to the table: Linux puts
    /// the first 14 in the exact filters RAR[1..14] first; here they all
    /// hash, so the filter reads back as one bitmap (DEVICE_INFO's MC_HASH).
    static func table(_ mode: RxMode) -> [UInt32] {
        var mta = [UInt32](repeating: 0, count: Int(E1000_MTA_REGS))
        for group in mode.multicast {
            let h = hash(group)
            mta[h >> 5] |= 1 << UInt32(h & 31)
        }
        return mta
    }
}

/// Receive address register values for a MAC (e1000_rar_set).
func receiveAddress(_ m: MACAddress) -> (low: UInt32, high: UInt32) {
    let b = m.bytes.map(UInt32.init)
    return (b[0] | b[1] << 8 | b[2] << 16 | b[3] << 24, b[4] | b[5] << 8 | E1000_RAH_AV)
}

/// The MAC in RAL/RAH values; nil unless the address-valid bit is set.
func receiveAddress(low: UInt32, high: UInt32) -> MACAddress? {
    guard high & E1000_RAH_AV != 0 else { return nil }
    return MACAddress(bytes: [UInt8(truncatingIfNeeded: low), UInt8(truncatingIfNeeded: low >> 8),
                              UInt8(truncatingIfNeeded: low >> 16), UInt8(truncatingIfNeeded: low >> 24),
                              UInt8(truncatingIfNeeded: high), UInt8(truncatingIfNeeded: high >> 8)])
}

/// TCTL as e1000_configure_tx leaves it: enabled, short packets padded,
/// retransmit on late collision, collision threshold 15, distance 63.
let transmitControl: UInt32 = E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_RTLC
    | E1000_COLLISION_THRESHOLD << E1000_TCTL_CT_SHIFT | E1000_COLLISION_DISTANCE << E1000_TCTL_COLD_SHIFT

/// RCTL without the filter bits (e1000_setup_rctl): enabled, broadcast
/// accepted, no loopback, RXDMT0 at half, multicast offset 0, 2048-byte
/// buffers, CRC kept (the nucleus strips it, as e1000_clean_rx_irq does).
let receiveControlBase: UInt32 = E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_RDMTS_HALF

/// Interrupt throttling: Linux's default of 8000 interrupts/s, in 256 ns units.
let interruptThrottle: UInt32 = 1_000_000_000 / (8000 * 256)
