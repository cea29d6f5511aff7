// SPDX-License-Identifier: GPL-2.0
// The revision table (8139too.c rtl_chip_info), as data.

struct ChipFlags: OptionSet, Sendable {
    let rawValue: UInt8
    static let hasHltClk = ChipFlags(rawValue: 1 << 0)
    static let hasLWake = ChipFlags(rawValue: 1 << 1)
}

struct ChipInfo: Sendable {
    let name: String
    /// TxConfig & TxConfig.revisionMask.
    let version: UInt32
    let flags: ChipFlags
    /// Position in the table; "8139B and later" compare by it, as 8139too does.
    let generation: Int
}

/// HW_REVID(b30, b29, b28, b27, b26, b23, b22).
func hwRevID(_ b30: UInt32, _ b29: UInt32, _ b28: UInt32, _ b27: UInt32, _ b26: UInt32, _ b23: UInt32, _ b22: UInt32) -> UInt32 {
    b30 << 30 | b29 << 29 | b28 << 28 | b27 << 27 | b26 << 26 | b23 << 23 | b22 << 22
}

let chipTable: [ChipInfo] = [
    ChipInfo(name: "RTL-8139", version: hwRevID(1, 0, 0, 0, 0, 0, 0), flags: .hasHltClk, generation: 0),
    ChipInfo(name: "RTL-8139 rev K", version: hwRevID(1, 1, 0, 0, 0, 0, 0), flags: .hasHltClk, generation: 1),
    ChipInfo(name: "RTL-8139A", version: hwRevID(1, 1, 1, 0, 0, 0, 0), flags: .hasHltClk, generation: 2),
    ChipInfo(name: "RTL-8139A rev G", version: hwRevID(1, 1, 1, 0, 0, 1, 0), flags: .hasHltClk, generation: 3),
    ChipInfo(name: "RTL-8139B", version: hwRevID(1, 1, 1, 1, 0, 0, 0), flags: .hasLWake, generation: 4),
    ChipInfo(name: "RTL-8130", version: hwRevID(1, 1, 1, 1, 1, 0, 0), flags: .hasLWake, generation: 5),
    ChipInfo(name: "RTL-8139C", version: hwRevID(1, 1, 1, 0, 1, 0, 0), flags: .hasLWake, generation: 6),
    ChipInfo(name: "RTL-8100", version: hwRevID(1, 1, 1, 1, 0, 1, 0), flags: .hasLWake, generation: 7),
    ChipInfo(name: "RTL-8100B/8139D", version: hwRevID(1, 1, 1, 0, 1, 0, 1), flags: [.hasHltClk, .hasLWake], generation: 8),
    ChipInfo(name: "RTL-8101", version: hwRevID(1, 1, 1, 0, 1, 1, 1), flags: .hasLWake, generation: 9),
    // QEMU's model (PCI revision 0x20); 8139too leaves it to 8139cp, this driver
    // runs it in classic mode, which the chip keeps.
    ChipInfo(name: "RTL-8139C+", version: hwRevID(1, 1, 1, 0, 1, 1, 0), flags: .hasLWake, generation: 6),
]

func identifyChip(txConfig: UInt32) -> ChipInfo? {
    chipTable.first { $0.version == txConfig & TxConfig.revisionMask }
}
