// SPDX-License-Identifier: GPL-2.0
// The chips this u-driver drives, and board quirks, as data.

/// Which member of the family.
enum Chip: Sendable, Equatable {
    case es1370
    case es1371

    /// The instance name drivermgr reports: ens1370 / ens1371.
    var driverName: String { self == .es1370 ? "ens1370" : "ens1371" }
    /// ALSA's card short name.
    var cardName: String { self == .es1370 ? "Ensoniq AudioPCI ENS1370" : "Ensoniq AudioPCI ENS1371" }
    /// Supported DAC2 rates: the ES1370 has a clock divider, the ES1371 a
    /// sample rate converter (4000..48000 Hz, ens1370.c's hw constraints).
    var rates: ClosedRange<UInt32> { self == .es1370 ? 4000...48000 : 4000...48000 }
}

/// One row of the revision table: PCI ids and revision → name.
struct ChipRevision: Sendable {
    let vendor: UInt16
    let device: UInt16
    let revision: UInt8?
    let chip: Chip
    let name: String
}

/// Known chips (ens1370.c's ES1371REV_* / CT5880REV_* ids).
let chipRevisions: [ChipRevision] = [
    ChipRevision(vendor: 0x1274, device: 0x5000, revision: nil, chip: .es1370, name: "ES1370"),
    ChipRevision(vendor: 0x1274, device: 0x1371, revision: 0x02, chip: .es1371, name: "ES1371"),
    ChipRevision(vendor: 0x1274, device: 0x1371, revision: 0x04, chip: .es1371, name: "ES1373 rev A"),
    ChipRevision(vendor: 0x1274, device: 0x1371, revision: 0x06, chip: .es1371, name: "ES1373 rev B"),
    ChipRevision(vendor: 0x1274, device: 0x1371, revision: 0x07, chip: .es1371, name: "CT5880 rev A"),
    ChipRevision(vendor: 0x1274, device: 0x1371, revision: 0x08, chip: .es1371, name: "ES1373 rev 8"),
    ChipRevision(vendor: 0x1274, device: 0x1371, revision: 0x09, chip: .es1371, name: "ES1371 rev B"),
    ChipRevision(vendor: 0x1274, device: 0x5880, revision: nil, chip: .es1371, name: "CT5880"),
    ChipRevision(vendor: 0x1102, device: 0x8938, revision: nil, chip: .es1371, name: "EV1938"),
]

/// Looks up the chip; an exact revision match wins over a wildcard.
func identifyChip(vendor: UInt16, device: UInt16, revision: UInt8) -> ChipRevision? {
    chipRevisions.first { $0.vendor == vendor && $0.device == device && $0.revision == revision }
        ?? chipRevisions.first { $0.vendor == vendor && $0.device == device && $0.revision == nil }
        ?? chipRevisions.first { $0.vendor == vendor && $0.device == device }
}

/// AC'97 codecs by vendor id (registers 0x7c/0x7e), for the probe log.
let ac97Codecs: [UInt32: String] = [
    0x8384_7609: "SigmaTel STAC9721/23",
    0x4352_5900: "Cirrus Logic CS4297",
    0x8384_7600: "SigmaTel STAC9700/83/84",
]
