// SPDX-License-Identifier: GPL-2.0
// The PCnet register map is module/include/chips/pcnet32_regs.h, imported
// through CChips and used by its C names. What lives here is the access
// protocol: a CSR or BCR is reached by writing its number to RAP and then
// reading or writing RDP (CSRs) or BDP (BCRs). The nucleus's interrupt
// handler selects CSR0 through the same RAP, so every access the u-driver
// makes is RAP + data port inside one register sequence: the nucleus holds
// the ComboLock for the whole sequence and its data path waits.
import CChips
import UDriverKit
import XPC

/// Register-sequence steps for the word I/O access protocol (pcnet32_wio_*).
enum PCNetIO {
    /// RAP := `index`.
    static func select(_ index: UInt32) -> RegisterStep { .write(PCNET32_WIO_RAP, index, width: 2) }

    /// pcnet32_wio_read_csr: one result.
    static func readCSR(_ index: UInt32) -> [RegisterStep] {
        [select(index), .read(PCNET32_WIO_RDP, width: 2)]
    }
    /// pcnet32_wio_write_csr.
    static func writeCSR(_ index: UInt32, _ value: UInt32) -> [RegisterStep] {
        [select(index), .write(PCNET32_WIO_RDP, value & 0xffff, width: 2)]
    }
    /// Reads the CSR until `(value & mask) == equals`; one result.
    static func pollCSR(_ index: UInt32, mask: UInt32, equals: UInt32) -> [RegisterStep] {
        [select(index), .poll(PCNET32_WIO_RDP, mask: mask, equals: equals, width: 2)]
    }
    /// pcnet32_wio_read_bcr: one result.
    static func readBCR(_ index: UInt32) -> [RegisterStep] {
        [select(index), .read(PCNET32_WIO_BDP, width: 2)]
    }
    /// pcnet32_wio_write_bcr.
    static func writeBCR(_ index: UInt32, _ value: UInt32) -> [RegisterStep] {
        [select(index), .write(PCNET32_WIO_BDP, value & 0xffff, width: 2)]
    }
    /// mdio_read through BCR33/BCR34: one result.
    static func readMII(phy: UInt32, register: UInt32) -> [RegisterStep] {
        writeBCR(PCNET32_BCR33, (phy & 0x1f) << PCNET32_MII_PHY_SHIFT | (register & 0x1f)) + readBCR(PCNET32_BCR34)
    }
    /// The reset register: a read stops and resets the chip (pcnet32_wio_reset).
    static let reset: RegisterStep = .read(PCNET32_WIO_RESET, width: 2)

    /// CSR8-11 written from a 64-bit logical address filter.
    static func writeFilter(_ filter: UInt64) -> [RegisterStep] {
        var steps: [RegisterStep] = []
        for i: UInt32 in 0..<4 {
            let word = UInt32(truncatingIfNeeded: filter >> UInt64(16 * i)) & 0xffff
            steps += writeCSR(PCNET32_CSR8 + i, word)
        }
        return steps
    }
    /// CSR12-14 written from a MAC, two bytes each, little-endian.
    static func writePhysicalAddress(_ mac: MACAddress) -> [RegisterStep] {
        var steps: [RegisterStep] = []
        for i in 0..<3 {
            let word = UInt32(mac.bytes[2 * i]) | UInt32(mac.bytes[2 * i + 1]) << 8
            steps += writeCSR(PCNET32_CSR12 + UInt32(i), word)
        }
        return steps
    }
}

/// MII registers pcnet32 reads through mii.c (include/uapi/linux/mii.h).
enum MII {
    static let bmcr: UInt32 = 0x00, bmsr: UInt32 = 0x01, physID1: UInt32 = 0x02, physID2: UInt32 = 0x03
    static let advertise: UInt32 = 0x04, lpa: UInt32 = 0x05
    static let bmsrLinkStatus: UInt32 = 0x0004
    static let bmcrFullDuplex: UInt32 = 0x0100, bmcrSpeed100: UInt32 = 0x2000, bmcrAutoneg: UInt32 = 0x1000
    static let full100: UInt32 = 0x0100, half100: UInt32 = 0x0080, full10: UInt32 = 0x0040
}
