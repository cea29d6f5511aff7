// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `[Metrics]` of drivermgrd.conf (in the configuration directory, beside
/// drivers.d/). Read at start.
///
///     [Metrics]
///     # node_exporter's textfile collector reads *.prom from its directory
///     Textfile=/var/lib/prometheus/node-exporter/drivermgrd.prom
///     TextfileIntervalSec=15s
///     # Off unless set: an IP literal and a port
///     ListenAddress=127.0.0.1:9559
struct MetricsSettings: Sendable, Equatable {
    /// Where the textfile is written; nil: none (`Textfile=` empty).
    var textfile: String?
    var textfileInterval: Duration = .seconds(15)
    /// The HTTP listener's address; nil: no listener, no TCP port.
    var listen: ListenAddress?

    /// An IPv4 or IPv6 literal and a port: `127.0.0.1:9559`, `[::1]:9559`.
    struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
        var host: String
        var port: UInt16
        var isIPv6: Bool
        var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

        init?(_ text: String) {
            let hostPart: Substring, portPart: Substring
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
                hostPart = text[text.index(after: text.startIndex)..<close]
                portPart = text[text.index(close, offsetBy: 2)...]
                isIPv6 = true
            } else {
                guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
                hostPart = text[..<colon]
                portPart = text[text.index(after: colon)...]
                isIPv6 = false
            }
            guard let port = UInt16(portPart), port > 0 else { return nil }
            var buf = [UInt8](repeating: 0, count: 16)
            guard inet_pton(isIPv6 ? AF_INET6 : AF_INET, String(hostPart), &buf) == 1 else { return nil }
            host = String(hostPart)
            self.port = port
        }
    }

    static let fileName = "drivermgrd.conf"

    /// The defaults: a textfile in the runtime directory, every 15 s.
    static func defaults(runtimeDirectory: String) -> MetricsSettings {
        MetricsSettings(textfile: (runtimeDirectory as NSString).appendingPathComponent("metrics.prom"))
    }

    /// Reads `[Metrics]` of `directory`/drivermgrd.conf when it exists.
    /// Unknown keys are warnings; bad values are errors with file:line, and
    /// the setting keeps its default.
    static func load(directory: String, runtimeDirectory: String) -> (MetricsSettings, warnings: [ConfigError], errors: [ConfigError]) {
        load(directories: [directory], runtimeDirectory: runtimeDirectory)
    }

    /// Reads drivermgrd.conf from the first directory of the search path
    /// that has one (/etc's replaces the packaged /usr/lib one whole).
    static func load(directories: [String], runtimeDirectory: String) -> (MetricsSettings, warnings: [ConfigError], errors: [ConfigError]) {
        var s = defaults(runtimeDirectory: runtimeDirectory)
        let found = directories.lazy.map { ($0 as NSString).appendingPathComponent(fileName) }
            .first { FileManager.default.fileExists(atPath: $0) }
        guard let path = found, let data = FileManager.default.contents(atPath: path) else { return (s, [], []) }
        let ini: INIFile
        do { ini = try INIFile(path: path, text: String(decoding: data, as: UTF8.self)) } catch let e as ConfigError {
            return (s, [], [e])
        } catch {
            return (s, [], [ConfigError(file: path, line: 0, message: "\(error)")])
        }
        var warnings: [ConfigError] = [], errors: [ConfigError] = []
        for e in ini.entries {
            guard e.section == "Metrics" else {
                warnings.append(ConfigError(file: path, line: e.line, message: "Unknown section '\(e.section)', ignoring"))
                continue
            }
            switch e.key {
            case "Textfile":
                if e.value.isEmpty { s.textfile = nil } else if e.value.hasPrefix("/") { s.textfile = e.value } else {
                    errors.append(ConfigError(file: path, line: e.line, message: "Textfile= must be an absolute path: '\(e.value)'"))
                }
            case "TextfileIntervalSec":
                if let d = TimeSpan.parse(e.value), d >= .milliseconds(100) { s.textfileInterval = d } else {
                    errors.append(ConfigError(file: path, line: e.line,
                                              message: "TextfileIntervalSec= must be a time span of at least 100ms: '\(e.value)'"))
                }
            case "ListenAddress":
                if e.value.isEmpty { s.listen = nil } else if let a = ListenAddress(e.value) { s.listen = a } else {
                    errors.append(ConfigError(file: path, line: e.line,
                                              message: "ListenAddress= must be an IP address and a port (127.0.0.1:9559, [::1]:9559): '\(e.value)'"))
                }
            default:
                warnings.append(ConfigError(file: path, line: e.line, message: "Unknown key name '\(e.key)' in section 'Metrics', ignoring"))
            }
        }
        return (s, warnings, errors)
    }
}

/// Writes ``DaemonMetrics`` as a node_exporter textfile every interval and,
/// when an address is configured, answers `GET /metrics` over HTTP.
final class MetricsExporter: Sendable {
    let settings: MetricsSettings
    private let manager: Manager
    private let logger: Logger
    private let listenFD: Int32?

    /// Binds the listener when one is configured.
    init(settings: MetricsSettings, manager: Manager, logger: Logger) throws {
        self.settings = settings
        self.manager = manager
        self.logger = logger
        guard let a = settings.listen else {
            listenFD = nil
            return
        }
        listenFD = try Self.bind(a)
    }

    deinit { if let listenFD { close(listenFD) } }

    private static func bind(_ a: MetricsSettings.ListenAddress) throws -> Int32 {
        let family = a.isIPv6 ? AF_INET6 : AF_INET
        let fd = socket(family, drv_sock_stream | drv_sock_cloexec, 0)
        guard fd >= 0 else { throw ManagerError.startFailed("metrics", "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var r: Int32
        if a.isIPv6 {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            sa.sin6_port = a.port.bigEndian
            inet_pton(AF_INET6, a.host, &sa.sin6_addr)
            r = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            sa.sin_port = a.port.bigEndian
            inet_pton(AF_INET, a.host, &sa.sin_addr)
            r = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard r == 0, listen(fd, 16) == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw ManagerError.startFailed("metrics", "bind \(a): \(e)")
        }
        return fd
    }

    /// The current metrics in Prometheus's text format.
    func render() -> String {
        DaemonMetrics.shared.refresh(manager.drivers.map { $0.summary() })
        return DaemonMetrics.shared.exposition()
    }

    /// Writes the textfile now: a temporary file beside it, then rename, so
    /// node_exporter never reads half of one.
    func writeTextfile() {
        guard let path = settings.textfile else { return }
        let tmp = path + ".tmp"
        do {
            try Data(render().utf8).write(to: URL(fileURLWithPath: tmp))
            guard rename(tmp, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            logger.warning("metrics: cannot write \(path): \(error)")
        }
    }

    /// Starts the listener's thread; the textfile is written by ``run()``.
    func start() {
        guard let fd = listenFD else { return }
        let t = Thread { [self] in
            while true {
                let c = drv_accept_cloexec(fd)
                if c < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    return
                }
                serve(c)
            }
        }
        t.name = "metrics-http"
        t.start()
        logger.info("metrics on http://\(settings.listen.map(\.description) ?? "")/metrics")
    }

    /// Writes the textfile every interval until cancelled, then removes
    /// it: a stopped daemon has no metrics to report.
    func run() async {
        guard let path = settings.textfile else { return }
        while !Task.isCancelled {
            writeTextfile()
            try? await Task.sleep(for: settings.textfileInterval)
        }
        unlink(path)
    }

    /// One HTTP/1.x exchange: `GET /metrics` (or `HEAD`), then close. A
    /// hand-written responder because the daemon serves one read-only page
    /// on one thread: swift-nio or an HTTP framework would add minutes to
    /// every build for it.
    private func serve(_ c: Int32) {
        defer { close(c) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        while request.count < 16384 {
            let n = chunk.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            request += chunk[0..<n]
            if request.firstRange(of: [13, 10, 13, 10]) != nil || request.firstRange(of: [10, 10]) != nil { break }
        }
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        var status = "200 OK", body = "", type = "text/plain; version=0.0.4; charset=utf-8"
        if parts.count != 3 || !parts[2].hasPrefix("HTTP/1.") {
            status = "400 Bad Request"; body = "bad request\n"; type = "text/plain"
        } else if parts[0] != "GET" && parts[0] != "HEAD" {
            status = "405 Method Not Allowed"; body = "GET /metrics only\n"; type = "text/plain"
        } else if parts[1] != "/metrics" && !parts[1].hasPrefix("/metrics?") {
            status = "404 Not Found"; body = "see /metrics\n"; type = "text/plain"
        } else {
            body = render()
        }
        let bytes = Array(body.utf8)
        var head = "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(bytes.count)\r\nConnection: close\r\n"
        if status.hasPrefix("405") { head += "Allow: GET, HEAD\r\n" }
        var out = Array((head + "\r\n").utf8)
        if parts.first != "HEAD" { out += bytes }
        var off = 0
        while off < out.count {
            let n = out[off...].withUnsafeBytes { send(c, $0.baseAddress, $0.count, drv_msg_nosignal) }
            if n <= 0 { return }
            off += n
        }
    }
}
