// SPDX-License-Identifier: GPL-2.0
import Foundation
import Testing
@testable import drivermgrd

/// `[Metrics]` of drivermgrd.conf: defaults, values, and file:line errors.
@Suite struct MetricsSettingsTests {
    func load(_ text: String?) throws -> (MetricsSettings, warnings: [ConfigError], errors: [ConfigError], path: String) {
        let dir = NSTemporaryDirectory() + "drvmetrics-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        if let text { try text.write(toFile: dir + "/drivermgrd.conf", atomically: true, encoding: .utf8) }
        let r = MetricsSettings.load(directory: dir, runtimeDirectory: "/run/x")
        return (r.0, r.warnings, r.errors, dir + "/drivermgrd.conf")
    }

    @Test func withoutAFileATextfileInTheRuntimeDirectoryAndNoPort() throws {
        let (s, w, e, _) = try load(nil)
        #expect(s == MetricsSettings(textfile: "/run/x/metrics.prom", textfileInterval: .seconds(15), listen: nil))
        #expect(w.isEmpty && e.isEmpty)
    }

    @Test func valuesAreRead() throws {
        let (s, w, e, _) = try load("""
            # metrics for node_exporter
            [Metrics]
            Textfile=/var/lib/prometheus/node-exporter/drivermgrd.prom
            TextfileIntervalSec=2min
            ListenAddress=[::1]:9559
            """)
        #expect(w.isEmpty && e.isEmpty, "\(w) \(e)")
        #expect(s.textfile == "/var/lib/prometheus/node-exporter/drivermgrd.prom" && s.textfileInterval == .seconds(120))
        #expect(s.listen?.description == "[::1]:9559" && s.listen?.isIPv6 == true)
        let (off, _, _, _) = try load("[Metrics]\nTextfile=\n")
        #expect(off.textfile == nil, "an empty Textfile= turns the textfile off")
    }

    @Test func badValuesAreErrorsWithFileAndLineAndKeepTheDefault() throws {
        let (s, w, e, path) = try load("""
            [Metrics]
            TextfileIntervalSec=soon
            ListenAddress=localhost:9559
            Textfile=metrics.prom
            Colour=blue
            [Alerts]
            Email=root
            """)
        #expect(e.map(\.description) == [
            "\(path):2: TextfileIntervalSec= must be a time span of at least 100ms: 'soon'",
            "\(path):3: ListenAddress= must be an IP address and a port (127.0.0.1:9559, [::1]:9559): 'localhost:9559'",
            "\(path):4: Textfile= must be an absolute path: 'metrics.prom'",
        ])
        #expect(w.map(\.line) == [5, 7])
        #expect(s == MetricsSettings.defaults(runtimeDirectory: "/run/x"))
        let (_, _, syntax, path2) = try load("[Metrics\nTextfile=/x\n")
        #expect(syntax.map(\.description) == ["\(path2):1: Invalid section header '[Metrics'"])
    }

    @Test(arguments: ["127.0.0.1:9559", "0.0.0.0:1", "[::]:65535", "[fe80::1]:80"])
    func listenAddressesThatParse(_ text: String) {
        #expect(MetricsSettings.ListenAddress(text)?.description == text)
    }

    @Test(arguments: ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:9559", "[::1]9559", "[::1]:", "host:80", "1.2.3:80", ""])
    func listenAddressesThatDoNot(_ text: String) {
        #expect(MetricsSettings.ListenAddress(text) == nil)
    }
}
