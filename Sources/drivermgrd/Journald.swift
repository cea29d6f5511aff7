// SPDX-License-Identifier: GPL-2.0
import CSystemd
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The journal entries drivermgrd documents in catalog/drivermgrd.catalog
/// (`journalctl -x` shows the text). One id per kind of entry, never reused.
enum JournalMessageID {
    /// A u-driver failed (FAILURE_KIND=, SIGNAL=, EXIT_STATUS=, SYSCALL=, XPC_OP=, PARAMETER=).
    static let failure = "9dbd74484c514218a1b66bb15387f923"
    /// A u-driver was recovered (RECOVERY_USEC=, REPLAYED_CALLS=, QUEUED_REQUESTS=,
    /// and per phase RECOVERY_REAP_USEC=, _WAIT_, _STANDBY_ or _SPAWN_, _HELLO_,
    /// _PROBE_, _REPLAY_, _DRAIN_USEC=).
    static let recovery = "7ccb056015b74975800fb2395dc3eb16"
    /// drivermgrd gave up on a driver and the nucleus quiesced its device.
    static let gaveUp = "09b6ef1e6b884d448815bd465e96a24e"
    /// A restarted drivermgrd took over a u-driver its predecessor left running (PID=).
    static let adopted = "f931c37cde9e48e79c9517bc3f96a51a"
    /// Recovery escalated: adopting the device failed ResetAfter= times in a
    /// row, and the next attempt resets it (ATTEMPTS=).
    static let escalated = "d683e9cc1b2c4677921ff11fb746f630"
    /// Recovery's third tier: ReaddAfter= attempts failed, and the nucleus
    /// re-added the device before the next one (ATTEMPTS=).
    static let readded = "fcc15b8a00474b02a2cbeb18b2f0aacc"
    /// `drvctl update` swapped a running u-driver (PID=, UPDATE_USEC=, BUILD_ID=).
    static let updated = "4e362e84abda490fbed9d4ad4e6ec796"
    /// `drvctl debug` put a u-driver under a tool, or took it back
    /// (DEBUG_TOOL=, DEBUG_ENDPOINT=, SANDBOX_WIDENING=, PID=).
    static let debug = "947bebfa356d491eb6344d6243d7896b"
}

/// A swift-log handler that writes structured entries to the journal with
/// `sd_journal_sendv` (the variadic `sd_journal_send` cannot be called from
/// Swift): MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CODE_FILE/LINE/FUNC, and
/// every metadata key as a field of its own (DRIVER=, FAILURE_KIND=, …).
struct JournaldLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let identifier: String

    init(identifier: String) { self.identifier = identifier }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// syslog priorities, as systemd maps swift-log's levels' names.
    static func priority(_ l: Logger.Level) -> Int {
        switch l {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// A u-driver's stderr line as the journal's stdout streams read one
    /// (sd-daemon(3)): a leading `<N>` (0–7) is its syslog priority and is
    /// taken off; a line without one is a notice. The sliced drivers'
    /// library writes printk's levels so (`<6>` for `netdev_info`).
    static func stderrLine(_ line: String) -> (level: Logger.Level, text: String) {
        let u = Array(line.utf8)
        guard u.count >= 3, u[0] == UInt8(ascii: "<"), u[2] == UInt8(ascii: ">"),
              u[1] >= UInt8(ascii: "0"), u[1] <= UInt8(ascii: "7") else { return (.notice, line) }
        let levels: [Logger.Level] = [.critical, .critical, .critical, .error, .warning, .notice, .info, .debug]
        var text = String(decoding: u[3...], as: UTF8.self)
        if text.first == " " { text.removeFirst() }
        return (levels[Int(u[1] - UInt8(ascii: "0"))], text)
    }

    /// A journal field name: upper case letters, digits and underscores, not
    /// starting with one (those are the journal's own), at most 64 bytes.
    static func fieldName(_ key: String) -> String? {
        let up = key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let name = String(up.drop { $0 == "_" || $0.isNumber }.prefix(64))
        return name.isEmpty ? nil : name
    }

    /// The entry's fields, "NAME=value" each.
    func fields(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
                file: String, function: String, line: UInt) -> [String] {
        var f = ["MESSAGE=\(message)", "PRIORITY=\(Self.priority(level))", "SYSLOG_IDENTIFIER=\(identifier)",
                 "CODE_FILE=\(file)", "CODE_LINE=\(line)", "CODE_FUNC=\(function)"]
        for (k, v) in metadata.merging(explicit ?? [:], uniquingKeysWith: { $1 }) {
            if let n = Self.fieldName(k) { f.append("\(n)=\(v)") }
        }
        return f
    }

    func log(event: LogEvent) {
        let f = fields(level: event.level, message: event.message, metadata: event.metadata, file: event.file,
                       function: event.function, line: event.line)
        let bytes = f.map { Array($0.utf8) }
        var iov = [iovec](repeating: iovec(), count: bytes.count)
        // The buffers must outlive the call: pin them all, then send.
        func send(_ i: Int) {
            if i == bytes.count {
                _ = sd_journal_sendv(&iov, Int32(iov.count))
                return
            }
            bytes[i].withUnsafeBytes { b in
                iov[i] = iovec(iov_base: UnsafeMutableRawPointer(mutating: b.baseAddress), iov_len: b.count)
                send(i + 1)
            }
        }
        send(0)
    }

    /// Whether stderr is the journal's stream (JOURNAL_STREAM names its
    /// device and inode, as systemd sets it for a service's stderr).
    static var stderrIsJournal: Bool {
        guard let v = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] else { return false }
        let parts = v.split(separator: ":")
        var st = stat()
        guard parts.count == 2, fstat(2, &st) == 0,
              let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
        return UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino
    }
}

/// sd_notify(3) for the service manager: READY, STATUS, WATCHDOG,
/// RELOADING, STOPPING. Started by hand (no NOTIFY_SOCKET) every call does
/// nothing.
struct ServiceNotifier: Sendable {
    func send(_ state: String) { _ = sd_notify(0, state) }

    /// How often systemd expects WATCHDOG=1 (WatchdogSec=), if at all.
    var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        return sd_watchdog_enabled(0, &usec) > 0 && usec > 0 ? .microseconds(Int64(usec)) : nil
    }
}
