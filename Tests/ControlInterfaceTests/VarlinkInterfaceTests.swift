// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing

/// The interface definitions, and the code's types checked against them.
@Suite struct VarlinkInterfaceTests {
    let manager: VarlinkInterface
    let service: VarlinkInterface

    init() throws {
        manager = try ManagerInterface.definition()
        service = try VarlinkService.definition()
    }

    @Test func bothDefinitionsParseAndNameThemselves() {
        #expect(manager.name == ManagerInterface.name)
        #expect(service.name == VarlinkService.name)
        #expect(manager.text == ManagerInterface.definitionText && manager.text.hasPrefix("# drivermgrd's control interface"))
    }

    @Test func everyMethodAndErrorOfTheCodeIsDeclaredAndNoOther() {
        #expect(Set(manager.methods.keys) == Set(ManagerInterface.Method.allCases.map(\.rawValue)))
        #expect(Set(manager.errors.keys) == Set(ManagerInterface.ErrorName.allCases.map(\.rawValue)))
        #expect(Set(service.methods.keys) == Set(VarlinkService.Method.allCases.map(\.rawValue)))
        #expect(Set(service.errors.keys) == Set(VarlinkService.ErrorName.allCases.map(\.rawValue)))
    }

    @Test func theEnumsAreTheCodesEnums() {
        #expect(manager.types["DriverState"] == .enum(DriverState.allCases.map(\.rawValue)))
        #expect(manager.types["FailureKind"] == .enum(FailureKind.allCases.map(\.varlinkName)))
    }

    func reply<T: Encodable>(_ value: T) throws -> [String: JSONValue] { try VarlinkCodec.parameters(value) }

    func output(_ method: ManagerInterface.Method) throws -> [VarlinkField] {
        try #require(manager.methods[method.rawValue]).output
    }

    static let event = DriverEvent(timeUSec: 1_796_000_000_123_456, driver: "ens1371", event: "recovered",
                                   detail: "replayed 3", state: .active, failureKind: .badParameter,
                                   recoveryUSec: 41_000, replayedCalls: 3, queuedRequests: 1,
                                   phases: [RecoveryPhase(name: "reap", usec: 90), RecoveryPhase(name: "probe", usec: 700)])
    static let summary = DriverSummary(name: "rtl8139", driverClass: "net", device: "0000:00:05.0", state: .recovering,
                                       pid: 4242, uptimeUSec: UInt64(Int64.max), restarts: 2)

    /// Every reply type, with every optional field set and with none set,
    /// encodes to what its method's output declares.
    @Test func everyReplyTypeMatchesItsMethodsOutput() throws {
        let device = DeviceState(pciID: "10ec:8139", chip: "RTL8139C+", registeredAs: "eth0", registration: "interface eth0",
                                 dataPath: true, fields: [StatusField(label: "MAC", text: "52:54:00:12:34:56")],
                                 values: ["rxMode": .string("promiscuous"), "multicastHashBits": .array([.int(3)]),
                                          "linkUp": .bool(true), "rxBytes": .uint(UInt64.max)])
        let full = DriverStatus(summary: Self.summary, executable: "/usr/libexec/drivermgr/rtl8139",
                                configFiles: ["/etc/drivermgr/drivers.d/rtl8139.conf"], match: "pci:10ec:8139",
                                xpcTimeoutUSec: 2_000_000, heartbeatUSec: 500_000, restart: "on-failure",
                                lastFailure: "crash: signal 11", device: device, buildId: "ab12",
                                debug: DebugStatus(tool: "gdb", program: "/usr/bin/gdbserver", endpoint: "/run/drivermgrd/debug/x.gdb",
                                                   widening: "u-driver's sandbox unchanged", attachedPid: 42))
        let bare = DriverStatus(summary: DriverSummary(name: "x", driverClass: "sound", device: nil, state: .stopped, pid: nil,
                                                       uptimeUSec: nil, restarts: 0),
                                executable: "x", configFiles: [], match: "pci:1274:1371", xpcTimeoutUSec: 1,
                                lastFailure: nil, device: nil)
        try manager.check(try reply(ListReply(drivers: [Self.summary, bare.summary])), against: try output(.list))
        try manager.check(try reply(StatusReply(drivers: [full, bare])), against: try output(.status))
        try manager.check(try reply(StateReply(state: .failed)), against: try output(.start))
        try manager.check(try reply(UnbindReply(state: .stopped, device: "0000:00:05.0", driver: "8139too")), against: try output(.unbind))
        try manager.check(try reply(UnbindReply(state: .stopped, device: "0000:00:05.0", driver: nil)), against: try output(.unbind))
        try manager.check(try reply(CallReply(result: ["master": "31"])), against: try output(.call))
        try manager.check(try reply(VerifyReply(compared: 4, divergences: [DeviceDivergence(setting: "MAC", expected: "a", found: "b")])),
                          against: try output(.verify))
        let plain = DriverEvent(timeUSec: 1, driver: "x", event: "spawned", detail: "", state: .starting)
        try manager.check(try reply(HistoryReply(events: [Self.event, plain])), against: try output(.history))
        try manager.check(try reply(MonitorReply(event: Self.event)), against: try output(.monitor))
        try manager.check(try reply(UpdateReply(state: .active, previousPid: 1, pid: 2, executable: "/x", buildId: "", usec: 5,
                                                replayedCalls: 3, queuedRequests: 0)), against: try output(.update))
        for endpoint in ["127.0.0.1:2345", nil] {
            try manager.check(try reply(DebugReply(state: .active, previousPid: 1, pid: 2, tool: "gdb", endpoint: endpoint,
                                                   widening: "w", usec: 7)), against: try output(.debug))
        }
    }

    /// The check is not a rubber stamp: each kind of wrong value is named
    /// by its path.
    @Test func aWrongReplyIsNamedByItsPath() throws {
        var p = try reply(ListReply(drivers: [Self.summary]))
        let list = try output(.list)
        func mismatch(_ p: [String: JSONValue]) -> VarlinkTypeMismatch? {
            do throws(VarlinkTypeMismatch) { try manager.check(p, against: list) } catch { return error }
            return nil
        }
        guard case .array(var ds) = p["drivers"], case .object(var d) = ds[0] else { Issue.record("shape"); return }
        d["state"] = .string("sleeping")
        ds[0] = .object(d)
        p["drivers"] = .array(ds)
        #expect(mismatch(p)?.path == "drivers[0].state" && mismatch(p)?.parameter == "drivers")
        d["state"] = .string("active")
        d["restarts"] = .double(1.5)
        p["drivers"] = .array([.object(d)])
        #expect(mismatch(p) == VarlinkTypeMismatch(path: "drivers[0].restarts", message: "expected an integer"))
        d["restarts"] = .int(1)
        d.removeValue(forKey: "name")
        p["drivers"] = .array([.object(d)])
        #expect(mismatch(p) == VarlinkTypeMismatch(path: "drivers[0].name", message: "missing"))
        d["name"] = .string("x")
        d["colour"] = .string("red")
        p["drivers"] = .array([.object(d)])
        #expect(mismatch(p) == VarlinkTypeMismatch(path: "drivers[0].colour", message: "unexpected field"))
        d.removeValue(forKey: "colour")
        d["pid"] = .null
        p["drivers"] = .array([.object(d)])
        #expect(mismatch(p) == nil, "an optional may be null")
    }

    @Test func callParametersAreCheckedByTheirDeclaration() throws {
        let status = try #require(manager.methods["Status"]).input
        try manager.check([:], against: status)
        try manager.check(["names": .array([.string("a")])], against: status)
        #expect(throws: VarlinkTypeMismatch(path: "names[1]", message: "expected a string")) {
            try manager.check(["names": .array([.string("a"), .int(2)])], against: status)
        }
        let call = try #require(manager.methods["Call"]).input
        #expect(throws: VarlinkTypeMismatch(path: "name", message: "missing")) {
            try manager.check(["operation": .string("help")], against: call)
        }
        #expect(throws: VarlinkTypeMismatch(path: "force", message: "unexpected field")) {
            try manager.check(["name": .string("a"), "operation": .string("help"), "force": .bool(true)], against: call)
        }
    }

    @Test func failureKindsTravelAsVarlinkNamesAndReadBothSpellings() throws {
        let json = String(decoding: try JSONEncoder().encode([FailureKind.badParameter]), as: UTF8.self)
        #expect(json == #"["bad_parameter"]"#)
        #expect(try JSONDecoder().decode([FailureKind].self, from: Data(#"["bad_parameter","bad-parameter","crash"]"#.utf8))
                == [.badParameter, .badParameter, .crash])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([FailureKind].self, from: Data(#"["bad parameter"]"#.utf8)) }
        #expect(FailureKind.badParameter.rawValue == "bad-parameter", "journald and logs keep the dash")
    }

    /// 64-bit integers cross exactly, written as integers; other numbers stay doubles.
    @Test func integersAreExactTo64Bits() throws {
        let text = #"{"a":9007199254740993,"b":18446744073709551615,"c":-9223372036854775808,"d":10000000000000000,"e":0.5}"#
        let v = try JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))
        #expect(v["a"] == .int(9_007_199_254_740_993))
        #expect(v["b"] == .uint(UInt64.max))
        #expect(v["c"] == .int(Int64.min))
        #expect(v["d"] == .int(10_000_000_000_000_000))
        #expect(v["e"] == .double(0.5))
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        #expect(String(decoding: try e.encode(v), as: UTF8.self) == text, "written back as they came, no 1e+16")
        #expect(JSONValue.integer(UInt64(Int64.max) + 1) == .uint(9_223_372_036_854_775_808))
        #expect(JSONValue.integer(UInt8(7)) == .int(7))
        #expect(JSONValue.int(-1).unsignedValue == nil && JSONValue.double(3).unsignedValue == 3)
    }

    @Test func syntaxErrorsSayWhere() {
        func error(_ text: String) -> VarlinkSyntaxError? {
            do throws(VarlinkSyntaxError) { _ = try VarlinkInterface(parsing: text) } catch { return error }
            return nil
        }
        #expect(error("interface a.b\nmethod M() -> (x: int)\n") == nil)
        #expect(error("interface ab\n")?.description == "1:13: not an interface name: ab")
        #expect(error("interface a.b\n\nmethod M() -> (x int)\n")?.description == "3:18: expected )")
        #expect(error("interface a.b\nmethod m() -> ()\n")?.description == "2:9: not a type name: m")
        #expect(error("interface a.b\ntype T (a: ??int)\n")?.description.hasSuffix("?? is not a type") == true)
        #expect(error("interface a.b\nmethod M() -> (x: Missing)\n")?.message == "method M: type Missing is not declared")
        #expect(error("interface a.b\ntype T (bad__name)\n")?.message == "not a field name: bad__name")
        #expect(error("interface a.b\nerror E ()\nerror E ()\n")?.message == "error E declared twice")
    }

    @Test func setsMapsAndInlineTypesAreChecked() throws {
        let i = try VarlinkInterface(parsing: """
            interface org.example.t
            method M(s: [string](), m: [string]?int, e: (on, off), o: (x: float)) -> ()
            """)
        let input = try #require(i.methods["M"]).input
        try i.check(["s": .object(["a": .object([:])]), "m": .object(["k": .null, "j": .int(1)]),
                     "e": .string("on"), "o": .object(["x": .int(2)])], against: input)
        #expect(throws: VarlinkTypeMismatch(path: "e", message: "expected one of on, off")) {
            try i.check(["s": .object([:]), "m": .object([:]), "e": .string("dim"), "o": .object(["x": .double(1)])], against: input)
        }
        #expect(throws: VarlinkTypeMismatch(path: "m[k]", message: "expected an integer")) {
            try i.check(["s": .object([:]), "m": .object(["k": .string("1")]), "e": .string("on"), "o": .object(["x": .double(1)])],
                        against: input)
        }
    }
}
