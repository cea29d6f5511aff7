// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing
@testable import drivermgrd

@Suite struct HistoryFileTests {
    func event(_ i: Int) -> DriverEvent {
        DriverEvent(timeUSec: UInt64(i), driver: "d\(i % 2)", event: "failure", detail: "#\(i)", state: .recovering, failureKind: .crash)
    }

    @Test func eventsOutliveTheWriterAndTheFileStaysBounded() throws {
        let path = FileManager.default.temporaryDirectory.path + "/history-\(getpid()).jsonl"
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let f = try #require(HistoryFile(path: path, minimumLines: 4))
            #expect(f.load().isEmpty)
            var kept = EventHistory(perDriver: 5)
            for i in 0..<25 {
                kept.append(event(i))
                f.append(event(i), keptCount: kept.count) { kept.all }
            }
        }
        // A SIGKILL in the middle of a write leaves half a line: skipped.
        let h = try #require(FileHandle(forWritingAtPath: path))
        h.seekToEndOfFile()
        h.write(Data("{\"timeUSec\": 9".utf8))
        try h.close()
        let again = try #require(HistoryFile(path: path))
        let loaded = EventHistory(perDriver: 5, loading: again.load())
        #expect(loaded.events(for: "d0").map(\.detail) == [16, 18, 20, 22, 24].map { "#\($0)" }, "each driver's newest, in order")
        #expect(loaded.events(for: "d1").map(\.detail) == [15, 17, 19, 21, 23].map { "#\($0)" })
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count
        #expect(lines <= 21, "rewritten at twice the events kept: \(lines) lines")
    }
}

@Suite struct EventHistoryTests {
    func event(_ driver: String, _ i: Int) -> DriverEvent {
        DriverEvent(timeUSec: UInt64(i), driver: driver, event: "failure", detail: "#\(i)", state: .recovering, failureKind: .crash)
    }

    @Test func aBusyDriverDoesNotPushAQuietOnesEventsOut() {
        var h = EventHistory(perDriver: 3)
        h.append(event("quiet", 0))
        for i in 1...1000 { h.append(event("busy", i)) }
        #expect(h.events(for: "quiet").map(\.detail) == ["#0"])
        #expect(h.events(for: "busy").map(\.detail) == ["#998", "#999", "#1000"], "the newest, oldest first")
        #expect(h.count == 4)
        #expect(h.all.count == 4)
        #expect(h.events(for: "absent").isEmpty)
    }

    @Test func loadingKeepsEachDriversNewest() {
        let file = (0..<10).map { event($0 % 2 == 0 ? "a" : "b", $0) }
        let h = EventHistory(perDriver: 2, loading: file)
        #expect(h.events(for: "a").map(\.detail) == ["#6", "#8"])
        #expect(h.events(for: "b").map(\.detail) == ["#7", "#9"])
        #expect(h.all.map(\.detail) == ["#6", "#8", "#7", "#9"], "driver by driver, each in order")
    }
}
