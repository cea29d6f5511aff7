// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `drvctl history` across the daemon's own restarts: every event appended
/// as one JSON line to RUNTIME/history.jsonl (the runtime directory
/// outlives a restart: RuntimeDirectoryPreserve=restart), read back by the
/// next daemon. Rewritten with the events the daemon keeps (an
/// ``EventHistory``) when it holds more than twice as many lines, and at
/// least `minimumLines`.
final class HistoryFile: @unchecked Sendable {
    // @unchecked: `fd` and `lines` are only touched under Manager's history lock.
    let path: String
    /// No rewrite below this many lines: a short history is not rewritten
    /// at every other event.
    let minimumLines: Int
    private var fd: Int32
    private var lines = 0

    /// Opens (creating) the file; nil when the directory is not writable.
    init?(path: String, minimumLines: Int = 1000) {
        self.path = path
        self.minimumLines = minimumLines
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { return nil }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Every event the file holds, oldest first; a line that does not
    /// decode (a write cut short by a SIGKILL) is skipped.
    func load() -> [DriverEvent] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let dec = JSONDecoder()
        let all = data.split(separator: 0x0a).compactMap { try? dec.decode(DriverEvent.self, from: Data($0)) }
        lines = all.count
        return all
    }

    /// Appends `e`; past twice `keptCount` lines (and `minimumLines`),
    /// rewrites the file as `kept()` (the history as it now is, `e`
    /// included, `keptCount` events).
    func append(_ e: DriverEvent, keptCount: Int, kept: () -> [DriverEvent]) {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        guard var line = try? enc.encode(e) else { return }
        line.append(0x0a)
        // One write(2) per event with O_APPEND: a reader or a successor never
        // sees half of someone else's line.
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        lines += 1
        if lines > max(2 * keptCount, minimumLines) { compact(kept()) }
    }

    private func compact(_ kept: [DriverEvent]) {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var out = Data()
        for e in kept { if let l = try? enc.encode(e) { out.append(l); out.append(0x0a) } }
        let tmp = path + ".new"
        guard FileManager.default.createFile(atPath: tmp, contents: out), rename(tmp, path) == 0 else { return }
        let nfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard nfd >= 0 else { return }
        close(fd)
        fd = nfd
        lines = kept.count
    }
}
