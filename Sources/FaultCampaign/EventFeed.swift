// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Synchronization

/// drivermgrd's event stream (Monitor), kept per driver, read by the
/// campaign's workers to see what each fault caused and when.
public final class EventFeed: Sendable {
    private let events = Mutex<[String: [DriverEvent]]>([:])
    private let closed = Mutex<String?>(nil)

    public init() {}

    /// Subscribes on its own connection and keeps reading on a thread.
    /// With `reconnect`, a stream that ends (drivermgrd killed on purpose)
    /// is taken up again from the next daemon.
    public func start(socket: String, reconnect: Bool = false) throws {
        let ready = DispatchSemaphore(value: 0)
        let t = Thread { [self] in
            var first = true
            while true {
                var client: ManagerClient
                do {
                    client = try ManagerClient(path: socket)
                    try client.stream(.monitor)
                } catch {
                    if first || !reconnect {
                        closed.withLock { $0 = "\(error)" }
                        if first { ready.signal() }
                        return
                    }
                    usleep(20_000)
                    continue
                }
                if first { ready.signal() }
                first = false
                while true {
                    do {
                        let r = try client.receive()
                        if let e = r.error {
                            closed.withLock { $0 = "monitor: \(e)" }
                            return
                        }
                        let m = try VarlinkCodec.decode(MonitorReply.self, from: r.parameters ?? [:])
                        events.withLock { $0[m.event.driver, default: []].append(m.event) }
                    } catch {
                        if !reconnect { closed.withLock { $0 = "\(error)" }; return }
                        break
                    }
                }
                client.close()
            }
        }
        t.start()
        ready.wait()
        if let why = endedBecause { throw CampaignError("cannot follow drivermgrd's events: \(why)") }
    }

    /// Why the stream ended (drivermgrd died), if it did.
    public var endedBecause: String? { closed.withLock { $0 } }

    /// How many events `driver` has had: a cursor for ``events(of:from:)``.
    public func count(of driver: String) -> Int { events.withLock { $0[driver]?.count ?? 0 } }

    /// `driver`'s events from cursor `from` on.
    public func events(of driver: String, from: Int) -> [DriverEvent] {
        events.withLock { e in
            guard let all = e[driver], from < all.count else { return [] }
            return Array(all[from...])
        }
    }

    /// Drops `driver`'s events before `cursor` (bounded memory over a
    /// long run); returns the new cursor, 0.
    public func forget(_ driver: String, before cursor: Int) -> Int {
        events.withLock { e in
            guard var all = e[driver] else { return 0 }
            all.removeFirst(min(cursor, all.count))
            e[driver] = all
            return 0
        }
    }
}
