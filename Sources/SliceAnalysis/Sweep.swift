// SPDX-License-Identifier: GPL-2.0
import Foundation

/// One module Kbuild built: its name, its sources (from Kbuild's
/// `NAME.mod`, the object list it writes beside the module) and the
/// `.OBJ.o.cmd` file of its first object, whose flags parse all of them.
public struct SweepModule: Sendable, Equatable {
    public let name: String
    /// The directory of the `.mod` file.
    public let directory: String
    public let sources: [String]
    public let cmdFile: String

    /// Every module under `root` Kbuild built (every `*.mod` file), sorted
    /// by path. A module one of whose objects has no `.c` beside it (an
    /// assembler file, a generated one) keeps the sources it has; one
    /// with none is left out.
    public static func find(under root: String) throws -> [SweepModule] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue,
              let walker = FileManager.default.enumerator(atPath: root) else {
            throw SliceError("\(root): cannot read the directory")
        }
        var mods: [String] = []
        while let rel = walker.nextObject() as? String {
            if rel.hasSuffix(".mod") { mods.append((root as NSString).appendingPathComponent(rel)) }
        }
        var out: [SweepModule] = []
        for path in mods.sorted() {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw SliceError("\(path): cannot read")
            }
            let dir = (path as NSString).deletingLastPathComponent
            var objects: [String] = []
            for line in text.split(whereSeparator: { $0 == "\n" || $0 == " " }) where line.hasSuffix(".o") {
                let o = String(line)
                objects.append(o.hasPrefix("/") ? o : (dir as NSString).appendingPathComponent((o as NSString).lastPathComponent))
            }
            let sources = objects.map { ($0 as NSString).deletingPathExtension + ".c" }
                .filter { FileManager.default.fileExists(atPath: $0) }
            guard let first = sources.first else { continue }
            let firstObject = (first as NSString).lastPathComponent.dropLast(2)
            let cmd = ((first as NSString).deletingLastPathComponent as NSString).appendingPathComponent(".\(firstObject).o.cmd")
            out.append(SweepModule(name: ((path as NSString).lastPathComponent as NSString).deletingPathExtension,
                                   directory: dir, sources: sources, cmdFile: cmd))
        }
        return out
    }

    /// Whether the sources register a PCI driver: a `struct pci_driver`
    /// defined, or `module_pci_driver(`. (Text, not the parse: the sweep
    /// picks its drivers before parsing them.)
    public var isPCIDriver: Bool {
        func defines(_ path: String, depth: Int) -> Bool {
            guard depth < 4, let t = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
            if t.contains("struct pci_driver ") || t.contains("module_pci_driver(") { return true }
            // A .c the file includes (ens1371.c is ens1370.c with CHIP1371
            // defined; uhci-hcd.c includes uhci-pci.c).
            let dir = (path as NSString).deletingLastPathComponent
            for line in t.split(separator: "\n") where line.hasPrefix("#include \"") && line.hasSuffix(".c\"") {
                let name = line.dropFirst("#include \"".count).dropLast()
                if defines((dir as NSString).appendingPathComponent(String(name)), depth: depth + 1) { return true }
            }
            return false
        }
        return sources.contains { defines($0, depth: 0) }
    }
}

/// One row of the sweep's table: how far driverslicer got with a module.
public struct SweepRow: Sendable, Codable, Equatable {
    public var driver: String
    /// Relative to the sweep's root.
    public var directory: String
    public var sources: Int
    /// Parsed with libclang with Kbuild's flags, no error in the driver's
    /// own files.
    public var parsed = false
    /// At least one critical root (an interface matched) and something
    /// left for user space.
    public var split = false
    /// Why it did not parse or split.
    public var reason: String?
    public var functions = 0
    public var kernelFunctions = 0
    public var userFunctions = 0
    /// Share of the function lines that move to user space, in %.
    public var movedPercent = 0.0
    public var upcalls = 0
    /// Upcalls no interface classifies (reached through an ops table the
    /// interface files do not know yet).
    public var unclassifiedUpcalls = 0
    /// Calls from the user side into the driver's nucleus functions.
    public var downcalls = 0
    /// Kernel API functions the user side calls (the driver library's size).
    public var kernelAPI = 0
    public var annotationsGiven = 0
    public var annotationsNeeded = 0
    /// Whether `--generate`'s C built with Kbuild and its Swift type-checked
    /// (nil: not tried).
    public var generatedCBuilds: Bool?
    public var generatedSwiftChecks: Bool?
    /// Whether `--halves`' kernel half built with Kbuild as a module with
    /// the runtime's core, and its user half as user-space code (nil: not
    /// tried).
    public var kernelHalfBuilds: Bool?
    public var userHalfBuilds: Bool?

    public init(driver: String, directory: String, sources: Int) {
        self.driver = driver
        self.directory = directory
        self.sources = sources
    }
}

/// `driverslicer --sweep`: every PCI driver Kbuild built under a tree, split
/// one after another, as KSplit's table of 354 drivers.
public enum Sweep {
    /// Splits `module` as `driverslicer FILES --kbuild-cmd …` would, with
    /// its annotation side file if `annotations` holds `NAME.slice` or
    /// one lies beside the first source. Never throws: a failure is the
    /// row's `reason`.
    public static func analyse(_ module: SweepModule, root: String, buildDirectory: String,
                               interfaces: InterfaceTable, annotations: String?) -> (SweepRow, CallGraph?, MarshalingSpec?, AnnotationSet) {
        let rel = module.directory == root ? "."
            : module.directory.hasPrefix(root + "/") ? String(module.directory.dropFirst(root.count + 1)) : module.directory
        var row = SweepRow(driver: module.name, directory: rel, sources: module.sources.count)
        var given = AnnotationSet()
        do {
            let args = try KbuildCommand.flags(cmdFile: module.cmdFile, buildDirectory: buildDirectory)
            let graph = try CallGraph.build(files: module.sources, arguments: args)
            row.parsed = true
            row.functions = graph.functions.count
            let split = Split(graph: graph, interfaces: interfaces)
            let candidates = [annotations.map { ($0 as NSString).appendingPathComponent("\(module.name).slice") },
                              (module.sources[0] as NSString).deletingPathExtension + ".slice"].compactMap { $0 }
            if let side = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) {
                given = try AnnotationSet(sideFile: side)
            }
            try AnnotationSet(given, in: graph).check(against: graph)
            let spec = MarshalingSpec(graph: graph, split: split, opaque: interfaces.opaque, annotations: given)
            row.kernelFunctions = split.kernel.count
            row.userFunctions = split.user.count
            row.movedPercent = split.userPercent
            row.upcalls = split.upcalls.count
            row.unclassifiedUpcalls = split.upcalls.filter { !$0.classified }.count
            row.downcalls = split.downcalls.count
            row.kernelAPI = split.kernelAPIFromUser.count
            row.annotationsGiven = AnnotationSet(given, in: graph).all.count
            row.annotationsNeeded = spec.needs.count
            if split.roots.isEmpty {
                row.reason = "no critical root: no interface file names how the kernel calls it"
            } else if split.user.isEmpty {
                row.reason = "everything is reached from a critical root: nothing moves"
            } else {
                row.split = true
            }
            return (row, graph, spec, given)
        } catch let e as SliceError {
            row.reason = e.description
        } catch {
            row.reason = "\(error)"
        }
        return (row, nil, nil, given)
    }

    /// The table as Markdown: one line per driver, then the totals.
    public static func markdown(_ rows: [SweepRow]) -> String {
        func yn(_ b: Bool?) -> String { b.map { $0 ? "yes" : "**no**" } ?? "–" }
        var o = ["| driver | dir | files | parsed | split | moved | kernel/user fns | upcalls (unclassified) | downcalls | kernel API | annotations needed | C builds | Swift checks | kernel half builds | user half builds |",
                 "|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---|---|---|---|"]
        for r in rows {
            let moved = r.parsed ? String(format: "%.1f %%", r.movedPercent) : "–"
            o.append("| \(r.driver) | \(r.directory) | \(r.sources) | \(yn(r.parsed)) | \(yn(r.parsed ? r.split : nil)) | \(moved) | "
                     + "\(r.kernelFunctions)/\(r.userFunctions) | \(r.upcalls) (\(r.unclassifiedUpcalls)) | \(r.downcalls) | \(r.kernelAPI) | "
                     + "\(r.annotationsNeeded) | \(yn(r.generatedCBuilds)) | \(yn(r.generatedSwiftChecks)) | "
                     + "\(yn(r.kernelHalfBuilds)) | \(yn(r.userHalfBuilds)) |")
        }
        o.append("")
        o.append(totals(rows))
        let failed = rows.filter { $0.reason != nil }
        if !failed.isEmpty {
            o.append("")
            o.append("Not split, and why:")
            o.append("")
            for r in failed { o.append("- \(r.driver): \(r.reason ?? "")") }
        }
        return o.joined(separator: "\n") + "\n"
    }

    /// One paragraph: counts, the median moved share, sums.
    public static func totals(_ rows: [SweepRow]) -> String {
        let parsed = rows.filter(\.parsed), split = rows.filter(\.split)
        let moved = split.map(\.movedPercent).sorted()
        let median = moved.isEmpty ? 0 : (moved.count % 2 == 1 ? moved[moved.count / 2]
                                          : (moved[moved.count / 2 - 1] + moved[moved.count / 2]) / 2)
        let tried = rows.filter { $0.generatedCBuilds != nil }
        var s = "Totals: \(rows.count) drivers, \(parsed.count) parsed, \(split.count) split"
        s += String(format: "; moved to user space: median %.1f %%, %.1f–%.1f %%", median, moved.first ?? 0, moved.last ?? 0)
        s += "; \(split.map(\.upcalls).reduce(0, +)) upcalls (\(split.map(\.unclassifiedUpcalls).reduce(0, +)) unclassified), "
        s += "\(split.map(\.downcalls).reduce(0, +)) downcalls, \(split.map(\.annotationsNeeded).reduce(0, +)) annotations needed "
        s += "(none for \(split.filter { $0.annotationsNeeded == 0 }.count) of the \(split.count))"
        if !tried.isEmpty {
            s += "; generated C builds for \(tried.filter { $0.generatedCBuilds == true }.count) of \(tried.count)"
            let swift = rows.filter { $0.generatedSwiftChecks != nil }
            s += ", generated Swift type-checks for \(swift.filter { $0.generatedSwiftChecks == true }.count) of \(swift.count)"
        }
        let halves = rows.filter { $0.kernelHalfBuilds != nil }
        if !halves.isEmpty {
            s += "; halves: the kernel half builds for \(halves.filter { $0.kernelHalfBuilds == true }.count) of \(halves.count), "
            s += "the user half for \(halves.filter { $0.userHalfBuilds == true }.count)"
        }
        return s + "."
    }
}
