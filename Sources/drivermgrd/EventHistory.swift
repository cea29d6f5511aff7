// SPDX-License-Identifier: GPL-2.0
import ControlInterface

/// What `drvctl history NAME` shows: the newest ``perDriver`` events of each
/// driver, so that a busy driver does not push a quiet one's out. (One list
/// of the daemon's newest 1,000 events did: in a long fault campaign over 64
/// drivers, `drvctl history` of a driver that had not failed for a while was
/// empty.)
struct EventHistory: Sendable {
    /// Events kept per driver; the oldest of that driver goes first.
    let perDriver: Int
    private var byDriver: [String: [DriverEvent]] = [:]
    /// Events kept, over every driver.
    private(set) var count = 0

    /// An empty history, or `events` (oldest first, as a history file
    /// holds them) with each driver's newest ``perDriver`` kept.
    init(perDriver: Int, loading events: [DriverEvent] = []) {
        self.perDriver = max(1, perDriver)
        for e in events { append(e) }
    }

    /// Adds `e` after its driver's newest event.
    mutating func append(_ e: DriverEvent) {
        var list = byDriver.removeValue(forKey: e.driver) ?? []
        list.append(e)
        count += 1
        if list.count > perDriver {
            let drop = list.count - perDriver
            list.removeFirst(drop)
            count -= drop
        }
        byDriver[e.driver] = list
    }

    /// `driver`'s events, oldest first.
    func events(for driver: String) -> [DriverEvent] { byDriver[driver] ?? [] }

    /// Every event kept, driver by driver (by name), each driver's oldest
    /// first: what the history file is rewritten with.
    var all: [DriverEvent] {
        byDriver.keys.sorted().flatMap { byDriver[$0] ?? [] }
    }
}
