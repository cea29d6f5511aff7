// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// drivermgrd's Prometheus metrics, scraped from its node_exporter textfile
/// and its HTTP listener while faults are injected: the values move as the
/// failures, recoveries and calls happen.
@Suite(.serialized) struct MetricsTests {
    /// A free TCP port on 127.0.0.1 (bound to 0, read, closed).
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &sa) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw HarnessError("no free port: \(String(cString: strerror(errno)))") }
        return UInt16(bigEndian: sa.sin_port)
    }

    /// `name{labels}` → value, from the text format.
    static func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let sp = line.lastIndex(of: " "), let v = Double(line[line.index(after: sp)...]) else { continue }
            out[String(line[..<sp])] = v
        }
        return out
    }

    /// GET over a plain socket; the status line and the body.
    static func get(_ port: UInt16, _ path: String) throws -> (String, String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        sa.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let r = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0 else { throw HarnessError("connect: \(String(cString: strerror(errno)))") }
        let req = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
        _ = req.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var all: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            all += buf[0..<n]
        }
        let text = String(decoding: all, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw HarnessError("no HTTP head in \(text)") }
        return (text[..<split.lowerBound].components(separatedBy: "\r\n").first ?? "", String(text[split.upperBound...]))
    }

    @Test func scrapedMetricsMoveWithFailuresRecoveriesAndCalls() throws {
        let h = try SimHarness()
        defer { h.stopAll() }
        let cfg = h.dir + "/etc"
        try FileManager.default.createDirectory(atPath: cfg + "/drivers.d", withIntermediateDirectories: true)
        for d in ["ens1371", "rtl8139"] {
            try FileManager.default.copyItem(atPath: SimHarness.etcDir + "/drivers.d/\(d).conf", toPath: cfg + "/drivers.d/\(d).conf")
            try FileManager.default.createDirectory(atPath: cfg + "/drivers.d/\(d).conf.d", withIntermediateDirectories: true)
            try "[Recovery]\nFaultInjection=yes\nStartLimitBurst=3\n"
                .write(toFile: cfg + "/drivers.d/\(d).conf.d/50-test.conf", atomically: true, encoding: .utf8)
        }
        let port = try Self.freePort()
        let textfile = h.dir + "/drivermgrd.prom"
        try "[Metrics]\nTextfile=\(textfile)\nTextfileIntervalSec=100ms\nListenAddress=127.0.0.1:\(port)\n"
            .write(toFile: cfg + "/drivermgrd.conf", atomically: true, encoding: .utf8)
        try h.startSim()
        let daemon = try h.startDaemon(config: cfg)
        try h.waitActive(["ens1371", "rtl8139"])
        func file() throws -> [String: Double] { Self.samples(try String(contentsOfFile: textfile, encoding: .utf8)) }
        try h.wait("the textfile") { try file()[#"drivermgr_driver_state{driver="rtl8139",class="net",state="active"}"#] == 1 }
        var m = try file()
        #expect(m[#"drivermgr_driver_state{driver="rtl8139",class="net",state="recovering"}"#] == 0)
        #expect(m[#"drivermgr_driver_restarts_total{driver="rtl8139"}"#] == 0)
        #expect(m["drivermgr_quiesced_devices"] == 0)
        #expect((m["drivermgr_daemon_resident_memory_bytes"] ?? 0) > 1_000_000)
        let regSeq = #"drivermgr_xpc_calls_total{direction="downcall",op="REG_SEQ"}"#
        let probeCalls = try #require(m[regSeq])
        #expect(probeCalls > 0, "the probes' register sequences went through the broker")

        // A crash: a failure of kind crash, a restart, a recovery timed.
        #expect(try h.drvctl("inject", "rtl8139", "crash").0 == 0)
        try h.wait("the crash counted") {
            let m = try file()
            return m[#"drivermgr_driver_failures_total{driver="rtl8139",kind="crash"}"#] == 1
                && m[#"drivermgr_driver_restarts_total{driver="rtl8139"}"#] == 1
                && m[#"drivermgr_recovery_duration_seconds_count{driver="rtl8139"}"#] == 1
        }
        m = try file()
        #expect((m[#"drivermgr_recovery_duration_seconds_sum{driver="rtl8139"}"#] ?? 0) > 0)
        #expect((m[regSeq] ?? 0) > probeCalls, "the new u-driver's probe and replay went through too")

        // A forbidden system call: a sandbox failure and a violation.
        #expect(try h.drvctl("inject", "ens1371", "syscall").0 == 0)
        try h.wait("the violation counted") {
            let m = try file()
            return m[#"drivermgr_sandbox_violations_total{driver="ens1371"}"#] == 1
                && m[#"drivermgr_driver_failures_total{driver="ens1371",kind="sandbox"}"#] == 1
        }
        // A downcall the broker refuses (a register read past the BAR): an
        // XPC error, and a bad-parameter failure.
        let refused = #"drivermgr_xpc_errors_total{direction="downcall",op="REG_READ"}"#
        #expect(try file()[refused] == nil)
        try h.wait("rtl8139 serving") { try h.list().first { $0.name == "rtl8139" }?.state == .active }
        #expect(try h.drvctl("inject", "rtl8139", "bad-param").0 == 0)
        try h.wait("the refused downcall counted") {
            let m = try file()
            return m[refused] == 1 && m[#"drivermgr_driver_failures_total{driver="rtl8139",kind="bad-parameter"}"#] == 1
        }

        // Past the start limit: failed, the device quiesced.
        for _ in 0..<4 where try h.list().first(where: { $0.name == "ens1371" })?.state != .failed {
            try h.wait("ens1371 serving") { try h.list().first { $0.name == "ens1371" }.map { $0.state == .active || $0.state == .failed } == true }
            _ = try h.drvctl("inject", "ens1371", "crash")
            Thread.sleep(forTimeInterval: 0.3)
        }
        try h.wait("quiesced") {
            let m = try file()
            return m["drivermgr_quiesced_devices"] == 1 && m[#"drivermgr_driver_state{driver="ens1371",class="sound",state="failed"}"#] == 1
        }

        // The HTTP listener serves the same families; other paths and
        // methods are refused.
        let (status, body) = try Self.get(port, "/metrics")
        #expect(status == "HTTP/1.1 200 OK")
        let scraped = Self.samples(body)
        #expect(scraped["drivermgr_quiesced_devices"] == 1 && scraped[#"drivermgr_sandbox_violations_total{driver="ens1371"}"#] == 1)
        #expect(body.contains("# HELP drivermgr_recovery_duration_seconds ") && body.contains("# TYPE drivermgr_recovery_duration_seconds histogram"))
        #expect(try Self.get(port, "/").0 == "HTTP/1.1 404 Not Found")

        // An independent parser (PyPI's prometheus_client) reads both.
        try body.write(toFile: h.dir + "/scraped.prom", atomically: true, encoding: .utf8)
        let (rc, text) = try h.python(["-c", """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for path in sys.argv[1:]:
                fams = {f.name: f for f in text_string_to_metric_families(open(path).read())}
                assert fams["drivermgr_recovery_duration_seconds"].type == "histogram", fams.keys()
                assert fams["drivermgr_driver_failures"].type == "counter", fams.keys()
                assert fams["drivermgr_driver_state"].documentation, "HELP"
                print(path, len(fams), "families")
            """, textfile, h.dir + "/scraped.prom"])
        #expect(rc == 0 && text.contains("9 families"), "\(text)")

        // A reload that removes a driver removes its series.
        try FileManager.default.removeItem(atPath: cfg + "/drivers.d/rtl8139.conf")
        kill(daemon.processIdentifier, SIGHUP)
        try h.wait("rtl8139's series gone") { try !file().keys.contains { $0.contains(#"driver="rtl8139""#) } }
        #expect(try file()[#"drivermgr_driver_state{driver="ens1371",class="sound",state="failed"}"#] == 1)
    }
}
