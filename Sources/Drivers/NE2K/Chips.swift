// SPDX-License-Identifier: GPL-2.0
// The PCI NE2000 clones ne2k-pci.c binds (ne2k_pci_tbl, pci_clone_list), as data.

/// What a clone can do differently from a by-the-book NE2000.
struct CloneFlags: OptionSet, Sendable {
    let rawValue: UInt16
    /// Only 16-bit data-port transfers (Via 86C926, Holtek HT80232).
    static let only16BitIO = CloneFlags(rawValue: 1 << 0)
    /// Only 32-bit data-port transfers (Holtek HT80229).
    static let only32BitIO = CloneFlags(rawValue: 1 << 1)
    /// Full duplex through page 3 CONFIG3 (RTL8029).
    static let realtekFullDuplex = CloneFlags(rawValue: 1 << 2)
    /// Full duplex through register 0x20 (Holtek).
    static let holtekFullDuplex = CloneFlags(rawValue: 1 << 3)
    /// The receive ring ends at page 0x60, not 0x80 (HT80229: 8 KiB).
    static let stopPage0x60 = CloneFlags(rawValue: 1 << 4)
}

/// One clone: its PCI id, its name and what it needs.
struct CloneInfo: Sendable {
    let vendor: UInt16
    let device: UInt16
    let name: String
    let flags: CloneFlags
}

let cloneTable: [CloneInfo] = [
    CloneInfo(vendor: 0x10ec, device: 0x8029, name: "RealTek RTL-8029(AS)", flags: .realtekFullDuplex),
    CloneInfo(vendor: 0x1050, device: 0x0940, name: "Winbond 89C940", flags: []),
    CloneInfo(vendor: 0x11f6, device: 0x1401, name: "Compex RL2000", flags: []),
    CloneInfo(vendor: 0x8e2e, device: 0x3000, name: "KTI ET32P2", flags: []),
    CloneInfo(vendor: 0x4a14, device: 0x5000, name: "NetVin NV5000SC", flags: []),
    CloneInfo(vendor: 0x1106, device: 0x0926, name: "Via 86C926", flags: .only16BitIO),
    CloneInfo(vendor: 0x10bd, device: 0x0e34, name: "SureCom NE34", flags: []),
    CloneInfo(vendor: 0x1050, device: 0x5a5a, name: "Winbond W89C940F", flags: []),
    CloneInfo(vendor: 0x12c3, device: 0x0058, name: "Holtek HT80232", flags: [.only16BitIO, .holtekFullDuplex]),
    CloneInfo(vendor: 0x12c3, device: 0x5598, name: "Holtek HT80229",
              flags: [.only32BitIO, .holtekFullDuplex, .stopPage0x60]),
    CloneInfo(vendor: 0x8c4a, device: 0x1980, name: "Winbond W89C940(misprogrammed)", flags: []),
]

func identifyClone(vendor: UInt16, device: UInt16) -> CloneInfo? {
    cloneTable.first { $0.vendor == vendor && $0.device == device }
}
