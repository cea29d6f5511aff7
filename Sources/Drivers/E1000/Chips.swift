// SPDX-License-Identifier: GPL-2.0
// The 8254x parts this u-driver runs, as data: e1000_set_mac_type's
// device-id switch, cut to the copper parts with the 82540's programming
// model (EERD at 0x14 with DONE in bit 4, MDIC, one rx and one tx ring).
import CChips

/// One supported PCI device id.
struct ChipInfo: Sendable, Equatable {
    /// PCI device id (vendor 0x8086).
    let deviceID: UInt16
    /// Marketing name, for messages and NET_REGISTER.
    let name: String
    /// Linux's e1000_mac_type for the part.
    let macType: String
    /// PHY identifier (PHY_ID1 << 16 | PHY_ID2, revision masked off).
    let phyID: UInt32
}

/// The parts `E1000` drives. The nucleus's id table (module/chips.c) binds
/// 8086:100e, the 82540EM QEMU emulates; the others share its register
/// layout and PHY and would need only an id line there.
let chipTable: [ChipInfo] = [
    ChipInfo(deviceID: 0x100e, name: "82540EM", macType: "e1000_82540", phyID: E1000_M88E1011_I_PHY_ID),
    ChipInfo(deviceID: 0x1015, name: "82540EM (LOM)", macType: "e1000_82540", phyID: E1000_M88E1011_I_PHY_ID),
    ChipInfo(deviceID: 0x1016, name: "82540EP (LOM)", macType: "e1000_82540", phyID: E1000_M88E1011_I_PHY_ID),
    ChipInfo(deviceID: 0x1017, name: "82540EP", macType: "e1000_82540", phyID: E1000_M88E1011_I_PHY_ID),
    ChipInfo(deviceID: 0x101e, name: "82540EP (LP)", macType: "e1000_82540", phyID: E1000_M88E1011_I_PHY_ID),
    ChipInfo(deviceID: 0x100f, name: "82545EM", macType: "e1000_82545", phyID: E1000_M88E1011_I_PHY_ID),
]

/// The table's entry for a PCI vendor and device id, or nil.
func identifyChip(vendor: UInt16, device: UInt16) -> ChipInfo? {
    guard vendor == 0x8086 else { return nil }
    return chipTable.first { $0.deviceID == device }
}
