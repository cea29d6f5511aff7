// SPDX-License-Identifier: GPL-2.0
// The chip table (pcnet32_probe1's switch on the part id), as data.
import CChips

/// What pcnet32 does differently per chip.
struct ChipFeatures: OptionSet, Sendable {
    let rawValue: UInt8
    /// Full duplex possible (BCR9).
    static let fullDuplex = ChipFeatures(rawValue: 1 << 0)
    /// An MII PHY behind BCR32-34.
    static let mii = ChipFeatures(rawValue: 1 << 1)
    /// BCR18 burst + NOUFLO and CSR80's transmit start point ("fset").
    static let fastSetup = ChipFeatures(rawValue: 1 << 2)
    /// 12K of SRAM split between rx and tx (BCR25/26).
    static let sram = ChipFeatures(rawValue: 1 << 3)
    /// HomePNA or 10 Mbit/s media select in BCR49 (79C978).
    static let homePNA = ChipFeatures(rawValue: 1 << 4)
}

/// One PCnet part.
struct PCNetChip: Sendable, Equatable {
    /// (CSR89 << 16 | CSR88) >> 12.
    let partID: UInt32
    let name: String
    let features: ChipFeatures

    /// The 79C970A (QEMU's model): the first part that suspends (CSR5 SPND)
    /// and reports link in BCR4. pcnet32 compares part ids against it.
    static let am79C970A: UInt32 = 0x2621

    /// pcnet32_suspend: "really old chips have to be stopped".
    var canSuspend: Bool { partID >= Self.am79C970A }
    /// pcnet32 starts its watchdog (and reads link) from the 79C970A on;
    /// older parts cannot tell link.
    var hasLinkStatus: Bool { partID >= Self.am79C970A }
}

/// pcnet32_probe1's parts. 0x2430 is the VL-bus 79C965 too, but on PCI
/// (a shared interrupt) pcnet32 names it the 79C970, which gives that id back.
let chipTable: [PCNetChip] = [
    PCNetChip(partID: 0x2420, name: "PCnet/PCI 79C970", features: []),
    PCNetChip(partID: 0x2430, name: "PCnet/PCI 79C970", features: []),
    PCNetChip(partID: 0x2621, name: "PCnet/PCI II 79C970A", features: .fullDuplex),
    PCNetChip(partID: 0x2623, name: "PCnet/FAST 79C971", features: [.fullDuplex, .mii, .fastSetup]),
    PCNetChip(partID: 0x2624, name: "PCnet/FAST+ 79C972", features: [.fullDuplex, .mii, .fastSetup]),
    PCNetChip(partID: 0x2625, name: "PCnet/FAST III 79C973", features: [.fullDuplex, .mii, .sram]),
    PCNetChip(partID: 0x2626, name: "PCnet/Home 79C978", features: [.fullDuplex, .homePNA]),
    PCNetChip(partID: 0x2627, name: "PCnet/FAST III 79C975", features: [.fullDuplex, .mii, .sram]),
    PCNetChip(partID: 0x2628, name: "PCnet/PRO 79C976", features: [.fullDuplex, .mii]),
]

/// Why a chip id was refused.
enum ChipIDError: Error, Equatable {
    /// Bits 11:0 are not AMD's manufacturer id.
    case notAMD(UInt32)
    /// AMD, but a part pcnet32 does not know.
    case unknownPart(UInt32)
}

/// pcnet32_probe1: the chip from CSR88 (low) and CSR89 (high).
func identifyChip(csr88: UInt32, csr89: UInt32) -> Result<PCNetChip, ChipIDError> {
    let version = (csr89 & 0xffff) << 16 | (csr88 & 0xffff)
    guard version & PCNET32_CHIP_AMD_MASK == PCNET32_CHIP_AMD else { return .failure(.notAMD(version)) }
    let part = (version >> PCNET32_CHIP_PART_SHIFT) & 0xffff
    guard let chip = chipTable.first(where: { $0.partID == part }) else { return .failure(.unknownPart(part)) }
    return .success(chip)
}
