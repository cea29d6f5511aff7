// SPDX-License-Identifier: GPL-2.0
import ArgumentParser
import Foundation
import NucleusSim
import XPC

/// nucleus-sim: the simulated kernel half. Device models plus their data
/// paths, serving the XPC protocol on a unix seqpacket socket.
@main
struct NucleusSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nucleus-sim",
        abstract: "Simulated drvnucleus: register-level ES1370/ES1371/RTL8139 models with their data paths.",
        discussion: """
            Serves the drvxpc protocol on SOCKET (unix SOCK_SEQPACKET). drivermgrd connects, \
            registers as the broker and receives one DEVICE_ADD per device. The data path keeps \
            running while no daemon or u-driver is connected.
            """)

    /// The device kinds the sim can model.
    enum DeviceKind: String, ExpressibleByArgument, CaseIterable {
        case es1370, es1371, rtl8139
    }

    @Option(help: "Socket path to serve.")
    var socket: String = "/run/drivermgrd/nucleus-sim.sock"

    @Option(parsing: .upToNextOption, help: "Devices to model, in instance order.")
    var devices: [DeviceKind] = [.es1371, .rtl8139]

    @Option(help: "MAC address in the RTL8139's EEPROM.")
    var mac: String = "52:54:00:12:34:56"

    @Flag(inversion: .prefixedNo, help: "Run the audio and network workload clients.")
    var workload = true

    @Option(help: "Sample rate the audio client plays at.")
    var rate: UInt32 = 48000

    func validate() throws {
        guard MACAddress(mac) != nil else { throw ValidationError("--mac: not a MAC address: \(mac)") }
        guard (4000...192_000).contains(rate) else { throw ValidationError("--rate: \(rate) outside 4000...192000") }
    }

    func run() async throws {
        let macAddr = MACAddress(mac) ?? .broadcast
        var models: [DeviceModel] = []
        for (i, d) in devices.enumerated() {
            let slot = String(format: "0000:00:%02x.0", 4 + i)
            switch d {
            case .es1370: models.append(ES137xModel(chip: .es1370, slot: slot, irq: UInt32(10 + i)))
            case .es1371: models.append(ES137xModel(chip: .es1371, slot: slot, irq: UInt32(10 + i)))
            case .rtl8139: models.append(RTL8139Model(mac: macAddr, slot: slot, irq: UInt32(10 + i)))
            }
        }
        let dir = (socket as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let listener: XPCListener
        do {
            listener = try XPCListener(path: socket)
        } catch {
            throw ValidationError("Failed to listen on \(socket): \(error)")
        }
        let nucleus = SimNucleus(models: models)
        nucleus.startDataPath()
        nucleus.serve(listener)
        print("nucleus-sim: \(devices.map(\.rawValue).joined(separator: ", ")) on \(socket)")
        if workload { await nucleus.runWorkload(rate: rate) }
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
