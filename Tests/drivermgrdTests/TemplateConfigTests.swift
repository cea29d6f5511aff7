// SPDX-License-Identifier: GPL-2.0
import Foundation
import Testing
@testable import drivermgrd

/// `drivers.d/NAME@.conf`: a template, instantiated per device.
struct TemplateConfigTests {
    static let body = "[Driver]\nClass=net\nMatch=pci:10ec:8139\nExecutable=rtl8139\nBind=yes\n"

    @Test func aFileNamedWithATrailingAtIsATemplate() throws {
        let dir = try ConfigTests().configDir(["rtl8139@.conf": Self.body, "ens1371.conf": "[Driver]\nClass=sound\nMatch=pci:1274:1371\nExecutable=ens137x\n"])
        let r = ConfigLoader.load(directory: dir, driverDirectory: "/x")
        #expect(r.errors.isEmpty, "\(r.errors)")
        let t = try #require(r.drivers.first { $0.name == "rtl8139" })
        #expect(t.template && t.instanceOf == nil)
        #expect(r.drivers.first { $0.name == "ens1371" }?.template == false)
        let i = t.instance(for: "0000:00:05.0")
        #expect(i.name == "rtl8139@0000:00:05.0" && !i.template)
        #expect(i.instanceOf == TemplateInstance(template: "rtl8139", slot: "0000:00:05.0"))
        #expect(i.bind == .slots(["0000:00:05.0"]), "Bind=yes narrows to the instance's own function")
        #expect(i.accepts(slot: "0000:00:05.0") && !i.accepts(slot: "0000:00:06.0") && t.accepts(slot: "0000:00:06.0"))
        #expect(i.executable == t.executable && i.xpcTimeout == t.xpcTimeout)
    }

    /// A template and a plain file of the same name are one driver twice.
    @Test func aTemplateAndAPlainDriverOfOneNameClash() throws {
        let dir = try ConfigTests().configDir(["rtl8139@.conf": Self.body, "rtl8139.conf": Self.body])
        let r = ConfigLoader.load(directory: dir, driverDirectory: "/x")
        #expect(r.drivers.count == 1 && r.errors.count == 1, "\(r.errors)")
        #expect(r.errors.first?.message.contains("Name=rtl8139 already defined") == true)
    }

    /// Instance names reach systemd's fd store escaped (no ':' there) and
    /// come back the same.
    @Test func instanceNamesSurviveTheFdStore() {
        for name in ["rtl8139@0000:00:05.0", "ens1371", "a%b@0000:01:00.7"] {
            let fd = HandoverStore.fdName(name)
            #expect(!fd.contains(":") && !fd.contains("."), "\(fd)")
            #expect(HandoverStore.driverName(fromFD: Substring(fd)) == name)
        }
    }
}
