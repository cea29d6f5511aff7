// SPDX-License-Identifier: GPL-2.0
import ArgumentParser
import Foundation
import SliceAnalysis

/// driverslicer: splits a Linux C driver at its critical roots.
@main
struct DriverSlicerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "driverslicer",
        abstract: "Split a Linux C driver into a kernel nucleus (critical roots and what they call) and a user-space u-driver.",
        discussion: """
            Parses the driver's .c files with libclang using the flags Kbuild compiled them with (--kbuild-cmd, \
            the .NAME.o.cmd file Kbuild leaves beside the object) or --cflags. Critical roots come from \
            the interface files (*.iface): functions the kernel calls through ops tables and registrations in \
            atomic or data-path context. Everything they call stays in the kernel; the rest moves to user space. \
            Prints the split, the upcalls (user functions the kernel calls) and the downcalls (user functions \
            calling nucleus functions, and the kernel API the user side uses), and the annotations the fields \
            that cross still need. --spec, --swift-types and --generate turn the split into a marshaling spec, \
            Swift types and marshaling code.
            """)

    @Argument(help: "The driver's .c files.")
    var files: [String]

    @Option(name: .customLong("kbuild-cmd"), help: "Kbuild's .NAME.o.cmd for the (first) file: its flags are used.")
    var kbuildCmd: String?

    @Option(name: .customLong("kbuild-dir"), help: "The kernel build directory Kbuild ran in, for its relative -I paths (default: /lib/modules/RELEASE/build).")
    var kbuildDir: String?

    @Option(name: .customLong("interfaces"), help: "Directory of interface files (*.iface).")
    var interfaces: String = DriverSlicerCommand.defaultInterfaces

    @Option(name: .customLong("interface"), parsing: .singleValue, help: "Use only this interface (repeatable; default: all).")
    var only: [String] = []

    @Flag(help: "Print the split and the marshaling spec as JSON.")
    var json = false

    @Flag(help: "Print the marshaling spec: per upcall and downcall, the struct fields the callee side reads and writes, with field-minimal and naive byte counts.")
    var spec = false

    @Flag(name: .customLong("swift-types"), help: "Print Swift types for the structs that cross the split, with only the fields the entry points use.")
    var swiftTypes = false

    @Option(name: .customLong("generate"), help: "Write the marshaling code into this directory: slice_DRIVER.c (kernel side; includes the driver's .c, needs drvxpc.h on the include path) and DRIVERSlice.swift (u-driver side: the Swift types and their codecs).")
    var generateDirectory: String?

    @Option(name: .customLong("annotations"), help: "Annotation side file (KIND STRUCT.FIELD [ARG] per line; default: the first file's name with .slice, if there is one).")
    var annotationFile: String?

    @Option(name: .customLong("init"), help: "Entry points the kernel calls at initialisation, comma-separated (e.g. cp_init_one,cp_open): their field-minimal and naive bytes are summed in the report.")
    var initEntries: String?

    @Option(name: .customLong("cflags"), help: "Compiler flags, separated by spaces (with or instead of --kbuild-cmd).")
    var cflags: String = ""

    /// The interface files: PREFIX/share/drivermgr/slicer/interfaces for an
    /// installed driverslicer (PREFIX/bin), slicer/interfaces of the
    /// checkout for one run from .build.
    static var defaultInterfaces: String {
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<5 {
            for rel in ["share/drivermgr/slicer/interfaces", "slicer/interfaces"] {
                let cand = dir.appendingPathComponent(rel).path
                if FileManager.default.fileExists(atPath: cand) { return cand }
            }
            dir = dir.deletingLastPathComponent()
        }
        return "/usr/local/share/drivermgr/slicer/interfaces"
    }

    func run() throws {
        do {
            let start = Date()
            let flags = cflags.split(separator: " ").map(String.init)
            var args = flags
            if let kbuildCmd {
                args = try KbuildCommand.flags(cmdFile: kbuildCmd, buildDirectory: kbuildBuildDirectory()) + flags
            }
            let table = try InterfaceTable(directory: interfaces, only: only.isEmpty ? nil : only)
            let graph = try CallGraph.build(files: files, arguments: args)
            let split = Split(graph: graph, interfaces: table)
            var annotations = AnnotationSet()
            let side = annotationFile ?? files.first.map { ($0 as NSString).deletingPathExtension + ".slice" }
            if let side, annotationFile != nil || FileManager.default.fileExists(atPath: side) {
                annotations = try AnnotationSet(sideFile: side)
            }
            let marshaling = MarshalingSpec(graph: graph, split: split, opaque: table.opaque, annotations: annotations)
            let ms = Date().timeIntervalSince(start) * 1000
            var initBytes: (names: [String], fieldMinimal: Int, naive: Int)?
            if let initEntries {
                let names = initEntries.split(separator: ",").map(String.init)
                for n in names where !marshaling.entries.contains(where: { $0.function == n }) {
                    throw SliceError("--init: \(n) is not an entry point of this split (see --spec)")
                }
                if let b = marshaling.bytes(for: names) { initBytes = (names, b.fieldMinimal, b.naive) }
            }
            if let dir = generateDirectory, let first = files.first {
                let stem = ((first as NSString).lastPathComponent as NSString).deletingPathExtension
                let names = files.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
                let types = SwiftTypes(graph: graph, spec: marshaling, source: names, annotations: annotations)
                let absolute = first.hasPrefix("/") ? first : FileManager.default.currentDirectoryPath + "/" + first
                let code = MarshalingCode(graph: graph, spec: marshaling, types: types, driverPath: absolute, source: names)
                do {
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                    let cPath = (dir as NSString).appendingPathComponent("slice_\(MarshalingCode.cIdent(stem)).c")
                    let swiftPath = (dir as NSString).appendingPathComponent("\(SwiftTypes.typeName(stem))Slice.swift")
                    try code.c.write(toFile: cPath, atomically: true, encoding: .utf8)
                    try code.swift.write(toFile: swiftPath, atomically: true, encoding: .utf8)
                    print("wrote \(cPath) and \(swiftPath)")
                } catch {
                    throw SliceError("\(dir): \(error.localizedDescription)")
                }
                return
            }
            if json {
                struct Output: Encodable { let split: Split; let marshaling: MarshalingSpec }
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try enc.encode(Output(split: split, marshaling: marshaling)), as: UTF8.self))
            } else if spec {
                print(marshaling.text)
            } else if swiftTypes {
                let names = files.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
                print(SwiftTypes(graph: graph, spec: marshaling, source: names, annotations: annotations).text, terminator: "")
            } else {
                print(SplitReport(split: split, graph: graph, files: files, interfaces: table.names, milliseconds: ms).text)
                print("")
                print("annotations: \(AnnotationSet(annotations, in: graph).all.count) given, \(marshaling.needs.count) needed")
                for n in marshaling.needs { print("  \(n)") }
                if let b = initBytes {
                    print("")
                    print("initialisation (\(b.names.joined(separator: " + "))): field-minimal \(b.fieldMinimal) B, "
                          + "naive \(b.naive) B (whole structures reachable from the parameters)")
                }
            }
        } catch let e as SliceError {
            FileHandle.standardError.write(Data("driverslicer: \(e.description)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// --kbuild-dir, else /lib/modules/`uname -r`/build.
    func kbuildBuildDirectory() -> String {
        if let kbuildDir { return kbuildDir }
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "/lib/modules/\(release)/build"
    }
}
