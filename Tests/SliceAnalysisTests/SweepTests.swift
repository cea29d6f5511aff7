// SPDX-License-Identifier: GPL-2.0
import Foundation
import Testing
@testable import SliceAnalysis

/// `driverslicer --sweep`'s module discovery and table.
@Suite struct SweepTests {
    func tree() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)").path
        let sub = root + "/vendor"
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        // Kbuild's NAME.mod: the module's objects with $(obj)/ before them.
        try "\(sub)/nic_main.o\n\(sub)/nic_hw.o\n".write(toFile: sub + "/nic.mod", atomically: true, encoding: .utf8)
        try "static struct pci_driver nic_driver = { };\n".write(toFile: sub + "/nic_main.c", atomically: true, encoding: .utf8)
        try "int nic_hw(void) { return 0; }\n".write(toFile: sub + "/nic_hw.c", atomically: true, encoding: .utf8)
        try "cmd_x := gcc -O2 -c\n".write(toFile: sub + "/.nic_main.o.cmd", atomically: true, encoding: .utf8)
        // A serio driver, and a module of assembly only (no .c: left out).
        try "mouse.o\n".write(toFile: root + "/mouse.mod", atomically: true, encoding: .utf8)
        try "static struct serio_driver d;\n".write(toFile: root + "/mouse.c", atomically: true, encoding: .utf8)
        try "\(root)/crc.o\n".write(toFile: root + "/crc.mod", atomically: true, encoding: .utf8)
        // ens1371.c is ens1370.c with CHIP1371: the PCI driver is in the included file.
        try "\(root)/alt.o\n".write(toFile: root + "/alt.mod", atomically: true, encoding: .utf8)
        try "#define CHIP_ALT\n#include \"vendor/nic_main.c\"\n".write(toFile: root + "/alt.c", atomically: true, encoding: .utf8)
        return root
    }

    @Test func modulesComeFromKbuildsModFilesAndPCIDriversAreTheOnesDefiningAPCIDriver() throws {
        let root = try tree()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let mods = try SweepModule.find(under: root)
        #expect(mods.map(\.name) == ["alt", "mouse", "nic"], "crc has no C source")
        #expect(mods.first?.isPCIDriver == true, "through the .c it includes")
        let nic = try #require(mods.last)
        #expect(nic.sources.map { ($0 as NSString).lastPathComponent } == ["nic_main.c", "nic_hw.c"])
        #expect(nic.cmdFile == root + "/vendor/.nic_main.o.cmd")
        #expect(nic.isPCIDriver && !mods[1].isPCIDriver)
        #expect(throws: SliceError.self) { try SweepModule.find(under: root + "/nowhere") }
    }

    @Test func aModuleThatDoesNotParseIsARowWithItsReasonAndTheTotalsCountIt() throws {
        let root = try tree()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let nic = try #require(try SweepModule.find(under: root).last)
        // Its .cmd names no include path: KbuildCommand refuses it by file:line.
        let (row, graph, _, _) = Sweep.analyse(nic, root: root, buildDirectory: "/nonexistent", interfaces: InterfaceTable(), annotations: nil)
        #expect(graph == nil && !row.parsed && !row.split)
        #expect(row.directory == "vendor" && row.sources == 2)
        #expect(row.reason?.contains(".nic_main.o.cmd:1: no include paths") == true, "\(row.reason ?? "")")
        var ok = SweepRow(driver: "good", directory: "x", sources: 1)
        ok.parsed = true; ok.split = true; ok.movedPercent = 60; ok.upcalls = 3; ok.unclassifiedUpcalls = 1
        ok.generatedCBuilds = true; ok.generatedSwiftChecks = false
        let md = Sweep.markdown([row, ok])
        #expect(md.contains("| good | x | 1 | yes | yes | 60.0 % |"))
        #expect(md.contains("| nic | vendor | 2 | **no** | – | – |"))
        #expect(md.contains("Totals: 2 drivers, 1 parsed, 1 split; moved to user space: median 60.0 %"))
        #expect(md.contains("generated C builds for 1 of 1, generated Swift type-checks for 0 of 1"))
        #expect(md.contains("- nic: ") && !md.contains("- good: "))
    }
}
