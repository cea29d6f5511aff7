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
        abstract: "Simulated drvnucleus: register-level ES1370/ES1371, RTL8139, e1000, PCnet32, NE2000, PS/2 mouse and UHCI models with their data paths.",
        discussion: "Device kinds (serve --devices KIND...):\n"
            + SimDeviceKind.table.map { "  " + $0.helpLine }.joined(separator: "\n"),
        subcommands: [Serve.self, Client.self],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the simulated nucleus (the default).",
        discussion: """
            Serves the drvxpc protocol on SOCKET (unix SOCK_SEQPACKET). drivermgrd connects, \
            registers as the broker and receives one DEVICE_ADD per device. The data path keeps \
            running while no daemon or u-driver is connected.
            """)

    @Option(help: "Socket path to serve.")
    var socket: String = "/run/drivermgrd/nucleus-sim.sock"

    @Option(parsing: .upToNextOption,
            help: ArgumentHelp("Devices to model, in instance order.",
                               discussion: SimDeviceKind.table.map(\.helpLine).joined(separator: "\n"),
                               valueName: "kind"))
    var devices: [SimDeviceKind] = [SimDeviceKind.named("es1371"), SimDeviceKind.named("rtl8139")].compactMap { $0 }

    @Option(help: "MAC address of the first NIC (its EEPROM, PROM or address PROM); each further NIC's last byte is one more.")
    var mac: String = "52:54:00:12:34:56"

    @Flag(inversion: .prefixedNo, help: "Run the audio and network workload clients.")
    var workload = true

    @Option(help: "Sample rate the audio client plays at.")
    var rate: UInt32 = 48000

    @Option(help: ArgumentHelp("Milliseconds a PS/2 mouse takes to answer its reset (RESET_BAT).",
                               discussion: "A slow mouse's self-test: libps2 waits up to 4 s for it, longer than a downcall's usual 2 s."))
    var mouseResetMs: UInt32 = 0

    @Option(help: ArgumentHelp("Milliseconds a PS/2 mouse takes to answer a resolution change (SETRES).",
                               discussion: "A mouse slow to answer a command sent from an upcall (drvctl call psmouse resolution)."))
    var mouseResolutionMs: UInt32 = 0

    func validate() throws {
        guard MACAddress(mac) != nil else { throw ValidationError("--mac: not a MAC address: \(mac)") }
        guard (4000...192_000).contains(rate) else { throw ValidationError("--rate: \(rate) outside 4000...192000") }
    }

    func run() async throws {
        let macAddr = MACAddress(mac) ?? .broadcast
        var models: [DeviceModel] = []
        var nics = 0, serios = 0
        for (i, d) in devices.enumerated() {
            // Slot 4 onwards on bus 0, then on the next buses: a PCI
            // function is bus:device.function with 32 devices a bus.
            let slot = String(format: "0000:%02x:%02x.0", (4 + i) / 32, (4 + i) % 32)
            var b = macAddr.bytes
            let (low, carry) = b[5].addingReportingOverflow(UInt8(truncatingIfNeeded: nics))
            b[5] = low
            b[4] &+= UInt8(truncatingIfNeeded: nics >> 8) &+ (carry ? 1 : 0)
            if d.isNIC { nics += 1 }
            if d.isSerio { serios += 1 }
            models.append(d.make(SimDeviceKind.Placement(slot: slot, irq: UInt32(10 + i), mac: MACAddress(bytes: b) ?? macAddr,
                                                         serioPort: "serio\(serios)", mouseResetMillis: mouseResetMs,
                                                         mouseResolutionMillis: mouseResolutionMs)))
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
        print("nucleus-sim: \(devices.map(\.name).joined(separator: ", ")) on \(socket)")
        if workload { await nucleus.runWorkload(rate: rate) }
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}

/// A device kind `--devices` takes: the name (the u-driver config's and
/// drvnucleus's chip name) → a maker of its model. One line per kind.
struct SimDeviceKind: ExpressibleByArgument, Sendable {
    /// Where a device sits: its PCI slot, interrupt line, (a NIC) MAC
    /// and (a serio device) port.
    struct Placement {
        let slot: String
        let irq: UInt32
        let mac: MACAddress
        let serioPort: String
        var mouseResetMillis: UInt32 = 0
        var mouseResolutionMillis: UInt32 = 0
    }

    let name: String
    /// Other spellings `--devices` takes (drvnucleus's file name for ne2k-pci).
    var aliases: [String] = []
    let summary: String
    let isNIC: Bool
    /// On a serio port, not PCI: numbered serio1, serio2, …
    var isSerio = false
    let make: @Sendable (Placement) -> DeviceModel

    static let table: [SimDeviceKind] = [
        SimDeviceKind(name: "es1370", summary: "Ensoniq ES1370 + AK4531, 1274:5000 (ens137x)", isNIC: false) {
            ES137xModel(chip: .es1370, slot: $0.slot, irq: $0.irq)
        },
        SimDeviceKind(name: "es1371", summary: "Ensoniq ES1371 + AC'97, 1274:1371 (ens137x)", isNIC: false) {
            ES137xModel(chip: .es1371, slot: $0.slot, irq: $0.irq)
        },
        SimDeviceKind(name: "rtl8139", summary: "Realtek RTL8139C+, 10ec:8139 (rtl8139)", isNIC: true) {
            RTL8139Model(mac: $0.mac, slot: $0.slot, irq: $0.irq)
        },
        SimDeviceKind(name: "e1000", summary: "Intel 82540EM, 8086:100e (e1000)", isNIC: true) {
            E1000Model(mac: $0.mac, slot: $0.slot, irq: $0.irq)
        },
        SimDeviceKind(name: "pcnet32", summary: "AMD Am79C970A PCnet-PCI II, 1022:2000 (pcnet32)", isNIC: true) {
            PCNet32Model(mac: $0.mac, slot: $0.slot, irq: $0.irq)
        },
        SimDeviceKind(name: "ne2k-pci", aliases: ["ne2k"], summary: "Realtek RTL8029 NE2000, 10ec:8029 (ne2k-pci)", isNIC: true) {
            NE2KModel(mac: $0.mac, slot: $0.slot, irq: $0.irq)
        },
        SimDeviceKind(name: "psmouse", summary: "PS/2 mouse (ImExPS/2) on an i8042 AUX port, serio:01:00 (psmouse)",
                      isNIC: false, isSerio: true) {
            PS2MouseModel(port: $0.serioPort, irq: 12, resetMillis: $0.mouseResetMillis,
                          resolutionMillis: $0.mouseResolutionMillis)
        },
        SimDeviceKind(name: "uhci", summary: "Intel PIIX3 USB UHCI, 8086:7020, a usb-storage disk on port 1 and a tablet on port 2 (uhci)",
                      isNIC: false) {
            UHCIModel(slot: $0.slot, irq: $0.irq, devices: [SimUSBDisk(), SimUSBTablet()])
        },
    ]

    static var names: [String] { table.map(\.name) }
    static func named(_ n: String) -> SimDeviceKind? { table.first { $0.name == n || $0.aliases.contains(n) } }

    /// The kind's line in --help: name, aliases, what it models.
    var helpLine: String {
        name + (aliases.isEmpty ? "" : " (or \(aliases.joined(separator: ", ")))") + ": " + summary
    }

    init(name: String, aliases: [String] = [], summary: String, isNIC: Bool, isSerio: Bool = false,
         make: @escaping @Sendable (Placement) -> DeviceModel) {
        (self.name, self.aliases, self.summary, self.isNIC, self.isSerio, self.make) = (name, aliases, summary, isNIC, isSerio, make)
    }

    init?(argument: String) {
        guard let k = Self.named(argument) else { return nil }
        self = k
    }

    static var allValueStrings: [String] { names }
    var defaultValueDescription: String { name }
}

/// What the sim's workload clients do on request: the sim's `aplay -r`,
/// `ip link set promisc`, `ip maddr add`, `ip link set address`.
struct Client: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a workload client act: change the sample rate, the rx mode or the MAC, pause or resume traffic.",
        discussion: "Each action becomes upcalls nucleus -> drivermgrd -> u-driver; it returns once they are done.")

    enum Action: String, ExpressibleByArgument, CaseIterable {
        case setRate = "set-rate", rxMode = "rx-mode", setMAC = "set-mac", traffic
    }

    @Option(help: "nucleus-sim's socket.")
    var socket: String = "/run/drivermgrd/nucleus-sim.sock"

    @Argument(help: "set-rate RATE | rx-mode normal|promisc|allmulti [GROUP...] | set-mac MAC | traffic on|off")
    var action: Action

    @Argument(help: "Device instance (1 = first --devices entry).")
    var instance: UInt32

    @Argument(help: "The action's arguments.")
    var arguments: [String] = []

    func run() async throws {
        var attrs: [XPCAttribute]
        switch action {
        case .setRate:
            guard let r = arguments.first.flatMap(UInt32.init), (4000...192_000).contains(r) else {
                throw ValidationError("set-rate needs a rate in 4000...192000")
            }
            attrs = [.u8(.simAction, 1), .u32(.pcmRate, r)]
        case .rxMode:
            let flags: UInt32
            switch arguments.first {
            case "normal": flags = 0
            case "promisc": flags = 1
            case "allmulti": flags = 2
            default: throw ValidationError("rx-mode needs normal, promisc or allmulti")
            }
            var groups: [XPCAttribute] = []
            for g in arguments.dropFirst() {
                guard let m = MACAddress(g), m.isMulticast else { throw ValidationError("not a multicast address: \(g)") }
                groups.append(.mac(.mac, m))
            }
            attrs = [.u8(.simAction, 2), .u32(.rxFlags, flags), .nested(.mcList, groups)]
        case .setMAC:
            guard let m = arguments.first.flatMap(MACAddress.init), !m.isMulticast else {
                throw ValidationError("set-mac needs a unicast MAC address")
            }
            attrs = [.u8(.simAction, 3), .mac(.mac, m)]
        case .traffic:
            guard let on = ["off": false, "on": true][arguments.first ?? ""], arguments.count == 1 else {
                throw ValidationError("traffic needs on or off")
            }
            attrs = [.u8(.simAction, 5), .u8(.datapathOn, on ? 1 : 0)]
        }
        let sock: XPCSocket
        do { sock = try XPCSocket.connect(path: socket) } catch {
            throw ValidationError("Failed to connect to nucleus-sim at \(socket): \(error)")
        }
        let conn = XPCConnection(name: "client", socket: sock, onEvent: { _, _ in })
        conn.start()
        defer { conn.close() }
        let r = try await conn.call(XPCMessage(op: .simControl, flags: .request, instance: instance, attributes: attrs),
                                    timeout: .seconds(10))
        if let e = r.remoteError {
            FileHandle.standardError.write(Data("Failed to \(action.rawValue) on instance \(instance): \(e.message ?? e.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}
