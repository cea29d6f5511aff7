// SPDX-License-Identifier: GPL-2.0

/// After each fault the campaign makes the driver do real work through the
/// broker (`drvctl call`): a setter with a random value, whose result the
/// device must then hold (``Outcome``'s verify step). Per device class, one
/// line each; a class without a line is exercised by its heartbeat alone.
public struct Exercise: Sendable, Equatable {
    /// The class operation (`drvctl call NAME help` lists them).
    public let operation: String
    public let arguments: [String]

    public init(_ operation: String, _ arguments: [String]) {
        self.operation = operation
        self.arguments = arguments
    }

    /// Multicast groups the net exercise joins (IPv4 and IPv6 all-nodes
    /// style addresses; any group works).
    static let groups = ["01:00:5e:00:00:01", "01:00:5e:00:00:fb", "33:33:00:00:00:01", "01:00:5e:7f:00:02"]

    public static let byClass: [String: @Sendable (inout SeededRandom) -> Exercise] = [
        "net": { r in
            let modes = ["normal", "normal", "promisc", "allmulti"]
            let mode = modes[Int(r.next() % UInt64(modes.count))]
            let n = Int(r.next() % UInt64(groups.count + 1))
            return Exercise("rx-mode", [mode] + groups.prefix(n))
        },
        "sound": { r in
            let controls = ["master", "pcm"]
            return Exercise("mixer-set", [controls[Int(r.next() % 2)], "\(r.next() % 101)"])
        },
        "input": { r in
            let rates = ["10", "20", "40", "60", "80", "100", "200"]
            return Exercise("rate", [rates[Int(r.next() % UInt64(rates.count))]])
        },
        "usb-host": { r in Exercise("fsbr", [["on", "off", "auto"][Int(r.next() % 3)]]) },
    ]
}
