// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import Foundation
import Testing

/// drivermgrd's control socket against the Varlink specification: the
/// definition it serves, its standard errors, oneway and more, every reply
/// checked against io.drivermgr.Manager.varlink; and PyPI's `varlink`
/// client, which is not ours, driving it.
@Suite(.serialized) struct VarlinkTests {
    let manager: VarlinkInterface
    let service: VarlinkInterface

    init() throws {
        manager = try ManagerInterface.definition()
        service = try VarlinkService.definition()
    }

    func started() throws -> SimHarness {
        let h = try SimHarness()
        try h.startSim()
        try h.startDaemon()
        try h.waitActive(["ens1371", "rtl8139"])
        return h
    }

    func connect(_ h: SimHarness) throws -> ManagerClient {
        try ManagerClient(path: h.dir + "/" + ManagerInterface.socketName)
    }

    /// A reply checked against what the definition declares for it: the
    /// method's output, or the error's parameters.
    func checked(_ r: VarlinkReply, of method: String) throws -> VarlinkReply {
        let p = r.parameters ?? [:]
        if let e = r.error {
            let dot = try #require(e.lastIndex(of: "."))
            let iface = e[..<dot] == VarlinkService.name ? service : manager
            #expect(e[..<dot] == iface.name[...], "error \(e) of an interface served here")
            let fields = try #require(iface.errors[String(e[e.index(after: dot)...])], "\(e) is declared")
            try iface.check(p, against: fields)
        } else {
            let dot = try #require(method.lastIndex(of: "."))
            let iface = method[..<dot] == VarlinkService.name ? service : manager
            try iface.check(p, against: try #require(iface.methods[String(method[method.index(after: dot)...])]).output)
        }
        return r
    }

    func call(_ c: inout ManagerClient, _ method: String, _ p: [String: JSONValue]? = nil) throws -> VarlinkReply {
        try c.send(VarlinkCall(method: method, parameters: p))
        return try checked(try c.receive(), of: method)
    }

    @Test func theServiceDescribesItselfWithTheDefinitionsText() throws {
        let h = try started()
        defer { h.stopAll() }
        var c = try connect(h)
        defer { c.close() }
        let info = try call(&c, VarlinkService.Method.getInfo.fullName)
        #expect(info.parameters?["interfaces"] == .array([.string(VarlinkService.name), .string(ManagerInterface.name)]))
        #expect(info.parameters?["version"] == .string(DrivermgrVersion.string))
        let d = try call(&c, VarlinkService.Method.getInterfaceDescription.fullName, ["interface": .string(ManagerInterface.name)])
        #expect(d.parameters?["description"] == .string(ManagerInterface.definitionText))
        let s = try call(&c, VarlinkService.Method.getInterfaceDescription.fullName, ["interface": .string(VarlinkService.name)])
        #expect(s.parameters?["description"] == .string(VarlinkService.definitionText))
    }

    /// Each method's real reply, from a daemon driving the sim's devices,
    /// is what the definition declares.
    @Test func everyMethodsReplyMatchesTheDefinition() throws {
        let h = try started()
        defer { h.stopAll() }
        var c = try connect(h)
        defer { c.close() }
        let m = { (x: ManagerInterface.Method) in x.fullName }
        #expect(try call(&c, m(.list)).error == nil)
        #expect(try call(&c, m(.status)).error == nil)
        #expect(try call(&c, m(.status), ["names": .array([.string("rtl8139")])]).error == nil)
        #expect(try call(&c, m(.call), ["name": .string("ens1371"), "operation": .string("mixer-get"),
                                         "arguments": .array([.string("master")])]).error == nil)
        #expect(try call(&c, m(.verify), ["name": .string("rtl8139")]).error == nil)
        #expect(try call(&c, m(.restart), ["name": .string("rtl8139")]).error == nil)
        #expect(try call(&c, m(.history), ["name": .string("rtl8139")]).error == nil)
        #expect(try call(&c, m(.stop), ["name": .string("ens1371")]).parameters?["state"] == .string("stopped"))
        #expect(try call(&c, m(.start), ["name": .string("ens1371")]).error == nil)
        #expect(try call(&c, m(.inject), ["name": .string("ens1371"), "kind": .string("meteor")]).error
                == ManagerInterface.ErrorName.invalidValue.fullName)
        #expect(try call(&c, m(.start), ["name": .string("nosuch")]).error == ManagerInterface.ErrorName.driverNotFound.fullName)
    }

    /// Bad calls get Varlink's standard errors naming what is wrong, and
    /// the connection goes on answering.
    @Test func badCallsGetTheStandardErrors() throws {
        let h = try started()
        defer { h.stopAll() }
        var c = try connect(h)
        defer { c.close() }
        func error(_ method: String, _ p: [String: JSONValue]? = nil) throws -> (String?, [String: JSONValue]) {
            let r = try call(&c, method, p)
            return (r.error, r.parameters ?? [:])
        }
        let invalid = VarlinkService.ErrorName.invalidParameter.fullName
        var (e, p) = try error("io.drivermgr.Manager.Reboot")
        #expect(e == VarlinkService.ErrorName.methodNotFound.fullName && p["method"] == .string("io.drivermgr.Manager.Reboot"))
        (e, p) = try error("org.example.Nothing.Do")
        #expect(e == VarlinkService.ErrorName.interfaceNotFound.fullName && p["interface"] == .string("org.example.Nothing"))
        (e, p) = try error("org.varlink.service.GetInterfaceDescription", ["interface": .string("org.example.Nothing")])
        #expect(e == VarlinkService.ErrorName.interfaceNotFound.fullName)
        (e, p) = try error(ManagerInterface.Method.status.fullName, ["names": .string("rtl8139")])
        #expect(e == invalid && p == ["parameter": .string("names")])
        (e, p) = try error(ManagerInterface.Method.start.fullName, ["name": .string("rtl8139"), "force": .bool(true)])
        #expect(e == invalid && p == ["parameter": .string("force")])
        (e, p) = try error(ManagerInterface.Method.start.fullName)
        #expect(e == invalid && p == ["parameter": .string("name")])
        (e, p) = try error(ManagerInterface.Method.call.fullName, ["name": .string("ens1371"), "operation": .string("help"),
                                                                  "arguments": .array([.int(1)])])
        #expect(e == invalid && p == ["parameter": .string("arguments")])
        (e, _) = try error(ManagerInterface.Method.monitor.fullName)
        #expect(e == VarlinkService.ErrorName.expectedMore.fullName)
        (e, _) = try error(ManagerInterface.Method.list.fullName)
        #expect(e == nil, "still answering")
    }

    /// A oneway call gets no reply: the next reply is the next call's.
    @Test func onewayGetsNoReply() throws {
        let h = try started()
        defer { h.stopAll() }
        var c = try connect(h)
        defer { c.close() }
        try c.send(VarlinkCall(method: ManagerInterface.Method.start.fullName, parameters: ["name": .string("nosuch")], oneway: true))
        try c.send(VarlinkCall(method: ManagerInterface.Method.history.fullName, parameters: ["name": .string("ens1371")]))
        let r = try checked(try c.receive(), of: ManagerInterface.Method.history.fullName)
        #expect(r.error == nil && r.parameters?["events"] != nil, "\(r)")
    }

    /// Monitor streams with `continues`; a call sent after it on the same
    /// connection is not answered in between its events.
    @Test func monitorStreamsAndTakesTheConnection() throws {
        let h = try started()
        defer { h.stopAll() }
        var c = try connect(h)
        defer { c.close() }
        let monitor = ManagerInterface.Method.monitor.fullName
        try c.send(VarlinkCall(method: monitor, more: true))
        try c.send(VarlinkCall(method: ManagerInterface.Method.list.fullName))
        Thread.sleep(forTimeInterval: 0.3)
        let (rc, _, err) = try h.drvctl("restart", "ens1371")
        #expect(rc == 0, "\(err)")
        var events: [String] = []
        while !events.contains("recovered") {
            let r = try checked(try c.receive(), of: monitor)
            #expect(r.continues == true && r.error == nil)
            guard case .object(let e)? = r.parameters?["event"], case .string(let what)? = e["event"] else {
                Issue.record("not an event: \(r)")
                return
            }
            events.append(what)
        }
        #expect(events.first == "restart", "\(events)")
    }

    /// PyPI's varlink client: reads the definition with its own parser and
    /// calls every kind of method (Tests/varlink/pypi_client.py).
    @Test func pypiVarlinkClientTalksToTheDaemon() throws {
        let h = try started()
        defer { h.stopAll() }
        let (rc, text) = try h.python([SimHarness.rootDir + "/Tests/varlink/pypi_client.py",
                                       h.dir + "/" + ManagerInterface.socketName, "ens1371", "rtl8139"])
        #expect(rc == 0 && text.hasSuffix("all claims hold\n"), "\(text)")
    }
}
