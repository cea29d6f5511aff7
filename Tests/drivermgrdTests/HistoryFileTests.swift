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
            let f = try #require(HistoryFile(path: path, limit: 10))
            #expect(f.load().isEmpty)
            var kept: [DriverEvent] = []
            for i in 0..<25 {
                kept.append(event(i))
                if kept.count > 10 { kept.removeFirst() }
                f.append(event(i), kept: kept)
            }
        }
        // A SIGKILL in the middle of a write leaves half a line: skipped.
        let h = try #require(FileHandle(forWritingAtPath: path))
        h.seekToEndOfFile()
        h.write(Data("{\"timeUSec\": 9".utf8))
        try h.close()
        let again = try #require(HistoryFile(path: path, limit: 10))
        let loaded = again.load()
        #expect(loaded.map(\.detail) == (15..<25).map { "#\($0)" }, "the newest `limit`, in order")
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count
        #expect(lines <= 21, "rewritten at twice the limit: \(lines) lines")
    }
}
