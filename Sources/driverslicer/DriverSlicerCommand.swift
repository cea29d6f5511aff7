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

    @Argument(help: "The driver's .c files (none with --sweep).")
    var files: [String] = []

    @Option(name: .customLong("sweep"), help: "Split every PCI driver Kbuild built under this directory (each NAME.mod, with its .OBJ.o.cmd flags) and print one table row per driver (Markdown; --json for JSON). With --generate, each driver's marshaling code goes to DIR/NAME, its C is built with one Kbuild run over DIR (with --cflags) and its Swift type-checked.")
    var sweepDirectory: String?

    @Option(name: .customLong("annotations-dir"), help: "With --sweep: a directory of NAME.slice annotation side files, one per driver.")
    var annotationsDirectory: String?

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

    @Option(name: .customLong("halves"), help: ArgumentHelp("Write the driver's two halves into this directory: kernel/FILE.c and user/FILE.c for each of its files (the other side's functions replaced by calls across the split, or removed where the half never reaches them) and NAME-slice.h (the ids of the functions that cross). They need module/include/drvslice.h, and the user half the driver library's drvslice-user.h, on the include path.", valueName: "dir"))
    var halvesDirectory: String?

    @Flag(name: .customLong("user-cflags"), help: "With --kbuild-cmd: print the flags that compile the driver's user half as user-space code with the kernel's headers (one per line) and stop.")
    var userCFlags = false

    @Option(name: .customLong("decaf"), help: ArgumentHelp("With --halves: move these functions of the user half to Swift, comma-separated (Decaf's step). Their C bodies call slice_NAME_swift_FN; DIR/decaf/ gets the bindings their Swift uses (NAME-decaf.h with module.modulemap, NAME-decaf.swift), and the user half ends with the bindings' C. See docs/driverslicer.md, \"Moving a driver to Swift\".", valueName: "fn,..."))
    var decafFunctions: String?

    @Option(name: .customLong("name"), help: "With --halves: the driver's name in the generated ids and file names (default: the first file's name without .c).")
    var driverName: String?

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

    func validate() throws {
        if sweepDirectory == nil && files.isEmpty { throw ValidationError("name the driver's .c files, or --sweep DIR") }
        if sweepDirectory != nil && !files.isEmpty { throw ValidationError("--sweep takes no .c files: it finds them under its directory") }
    }

    func run() throws {
        if let sweepDirectory {
            do {
                try sweep(sweepDirectory)
            } catch let e as SliceError {
                FileHandle.standardError.write(Data("driverslicer: \(e.description)\n".utf8))
                throw ExitCode(1)
            }
            return
        }
        do {
            if userCFlags {
                guard let kbuildCmd else { throw SliceError("--user-cflags needs --kbuild-cmd") }
                let flags = try KbuildCommand.userSpaceFlags(cmdFile: kbuildCmd, buildDirectory: kbuildBuildDirectory())
                print(flags.joined(separator: "\n"))
                return
            }
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
            try AnnotationSet(annotations, in: graph).check(against: graph)
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
            if let dir = halvesDirectory {
                let name = driverName ?? ((files.first.map { ($0 as NSString).lastPathComponent } ?? "driver") as NSString).deletingPathExtension
                var decaf: DecafBindings?
                if let decafFunctions {
                    let fns = decafFunctions.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                    guard let first = files.first, fns.count > 0 else { throw SliceError("--decaf: no functions named") }
                    guard let source = FileManager.default.contents(atPath: first) else { throw SliceError("\(first): cannot read it") }
                    decaf = try DecafBindings(driver: name, functions: fns, split: split, graph: graph,
                                              source: String(decoding: source, as: UTF8.self))
                }
                let halves = try SliceHalves(driver: name, split: split, graph: graph, spec: marshaling, decaf: decaf,
                                             annotations: annotations)
                try Self.write(halves, into: dir)
                if let decaf {
                    let d = dir + "/decaf"
                    do {
                        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
                        try decaf.header.write(toFile: "\(d)/\(decaf.headerName)", atomically: true, encoding: .utf8)
                        try decaf.moduleMap.write(toFile: "\(d)/module.modulemap", atomically: true, encoding: .utf8)
                        try decaf.swift.write(toFile: "\(d)/\(decaf.swiftName)", atomically: true, encoding: .utf8)
                    } catch {
                        throw SliceError("\(d): \(error.localizedDescription)")
                    }
                    print("moved to Swift: \(decaf.functions.joined(separator: ", ")); their bindings in \(d)")
                }
                let up = halves.entries.filter(\.up).count
                print("wrote \(halves.files.count) file(s) in each of \(dir)/kernel and \(dir)/user, and \(dir)/\(halves.headerName): "
                      + "\(up) upcall and \(halves.entries.count - up) downcall entries")
                return
            }
            if let dir = generateDirectory {
                let (cPath, swiftPath) = try Self.generate(files: files, graph: graph, spec: marshaling, annotations: annotations, into: dir)
                print("wrote \(cPath) and \(swiftPath)")
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

    /// Writes `halves` into `dir`: kernel/FILE.c, user/FILE.c, NAME-slice.h.
    static func write(_ halves: SliceHalves, into dir: String) throws {
        do {
            for side in ["kernel", "user"] {
                try FileManager.default.createDirectory(atPath: dir + "/" + side, withIntermediateDirectories: true)
            }
            for f in halves.files {
                try f.kernel.write(toFile: "\(dir)/kernel/\(f.name)", atomically: true, encoding: .utf8)
                try f.user.write(toFile: "\(dir)/user/\(f.name)", atomically: true, encoding: .utf8)
            }
            try halves.header.write(toFile: "\(dir)/\(halves.headerName)", atomically: true, encoding: .utf8)
        } catch {
            throw SliceError("\(dir): \(error.localizedDescription)")
        }
    }

    /// Writes the marshaling code for `files` into `dir`: slice_STEM.c and
    /// STEMSlice.swift. Returns their paths.
    static func generate(files: [String], graph: CallGraph, spec: MarshalingSpec, annotations: AnnotationSet,
                         into dir: String) throws -> (String, String) {
        guard let first = files.first else { throw SliceError("no files to generate code for") }
        let stem = ((first as NSString).lastPathComponent as NSString).deletingPathExtension
        let names = files.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
        let types = SwiftTypes(graph: graph, spec: spec, source: names, annotations: annotations)
        let absolute = first.hasPrefix("/") ? first : FileManager.default.currentDirectoryPath + "/" + first
        let code = MarshalingCode(graph: graph, spec: spec, types: types, driverPath: absolute, source: names)
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let cPath = (dir as NSString).appendingPathComponent("slice_\(MarshalingCode.cIdent(stem)).c")
            let swiftPath = (dir as NSString).appendingPathComponent("\(SwiftTypes.typeName(stem))Slice.swift")
            try code.c.write(toFile: cPath, atomically: true, encoding: .utf8)
            try code.swift.write(toFile: swiftPath, atomically: true, encoding: .utf8)
            return (cPath, swiftPath)
        } catch {
            throw SliceError("\(dir): \(error.localizedDescription)")
        }
    }

    /// --sweep: every PCI driver under `root`, one row each; with
    /// --generate, the generated code built too.
    func sweep(_ root0: String) throws {
        let root = URL(fileURLWithPath: root0).standardizedFileURL.path
        let table = try InterfaceTable(directory: interfaces, only: only.isEmpty ? nil : only)
        let kdir = kbuildBuildDirectory()
        let modules = try SweepModule.find(under: root).filter(\.isPCIDriver)
        guard !modules.isEmpty else { throw SliceError("\(root): no PCI driver built here (no NAME.mod whose sources define a struct pci_driver); run Kbuild first") }
        var rows: [SweepRow] = []
        var generated: [(row: Int, dir: String, c: String, swift: String, flags: [String])] = []
        var halved: [(row: Int, dir: String, module: SweepModule, flags: [String])] = []
        let runtime = Self.runtimeDirectories
        for m in modules {
            FileHandle.standardError.write(Data("driverslicer: \(m.name) (\(rows.count + 1) of \(modules.count))\n".utf8))
            var (row, graph, spec, given) = Sweep.analyse(m, root: root, buildDirectory: kdir, interfaces: table,
                                                          annotations: annotationsDirectory)
            if let genRoot = generateDirectory, row.split, let graph, let spec {
                let dir = (genRoot as NSString).appendingPathComponent(MarshalingCode.cIdent(m.name))
                do {
                    let (c, swift) = try Self.generate(files: m.sources, graph: graph, spec: spec, annotations: given, into: dir)
                    let flags = (try? KbuildCommand.flags(cmdFile: m.cmdFile, buildDirectory: kdir)) ?? []
                    generated.append((rows.count, dir, c, swift, Self.driverOwnFlags(flags, buildDirectory: kdir)))
                } catch let e as SliceError {
                    row.generatedCBuilds = false
                    row.reason = "generate: \(e.description)"
                }
                // The halves: the kernel half joins the Kbuild run below.
                if let runtime {
                    do {
                        let h = try SliceHalves(driver: m.name, split: Split(graph: graph, interfaces: table), graph: graph, spec: spec)
                        let hdir = (dir as NSString).appendingPathComponent("halves")
                        try Self.write(h, into: hdir)
                        let flags = (try? KbuildCommand.flags(cmdFile: m.cmdFile, buildDirectory: kdir)) ?? []
                        try Self.kernelHalfKbuild(hdir, module: m, runtime: runtime,
                                                  flags: Self.driverOwnFlags(flags, buildDirectory: kdir))
                        halved.append((rows.count, hdir, m, flags))
                    } catch let e as SliceError {
                        row.kernelHalfBuilds = false
                        row.userHalfBuilds = false
                        if row.reason == nil { row.reason = "halves: \(e.description)" }
                    }
                }
            }
            rows.append(row)
        }
        if let genRoot = generateDirectory, !generated.isEmpty {
            let kernelHalves = halved.map { ($0.dir as NSString).appendingPathComponent("kernel") }
            try buildGenerated(genRoot, generated.map { ($0.dir, $0.c, $0.flags) }, extra: kernelHalves, kdir: kdir)
            for g in generated {
                rows[g.row].generatedCBuilds = FileManager.default.fileExists(atPath: (g.c as NSString).deletingPathExtension + ".o")
                rows[g.row].generatedSwiftChecks = Self.typeChecks(g.swift)
            }
            for h in halved {
                let names = h.module.sources.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
                rows[h.row].kernelHalfBuilds = names.allSatisfy {
                    FileManager.default.fileExists(atPath: "\(h.dir)/kernel/\($0).o")
                }
                if let runtime {
                    rows[h.row].userHalfBuilds = Self.userHalfBuilds(h.dir, module: h.module, runtime: runtime, kdir: kdir)
                }
            }
        }
        if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try enc.encode(rows), as: UTF8.self))
        } else {
            print(Sweep.markdown(rows), terminator: "")
        }
    }

    /// The flags Kbuild added for the driver's own directory (its -I paths
    /// outside the kernel build tree, its -D but Kbuild's KBUILD_*), for
    /// building its generated code elsewhere.
    static func driverOwnFlags(_ flags: [String], buildDirectory: String) -> [String] {
        flags.filter { f in
            if f.hasPrefix("-I/") { return !f.hasPrefix("-I" + buildDirectory) && !f.hasPrefix("-I/usr/src/linux-headers") && !f.hasPrefix("-I/usr/lib/gcc") }
            if f.hasPrefix("-D") { return !f.hasPrefix("-DKBUILD_") && !f.contains("\"") && !f.contains(" ") }
            return false
        }
    }

    /// One Kbuild run over every generated directory (make -k: a driver
    /// whose code does not build leaves no .o and does not stop the rest).
    func buildGenerated(_ genRoot: String, _ dirs: [(dir: String, c: String, flags: [String])], extra: [String] = [],
                        kdir: String) throws {
        let root = URL(fileURLWithPath: genRoot).standardizedFileURL.path
        let subdirs = extra.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            .map { $0.hasPrefix(root + "/") ? String($0.dropFirst(root.count + 1)) : $0 }
        let top = (dirs.map { "obj-m += \(($0.dir as NSString).lastPathComponent)/" } + subdirs.map { "obj-m += \($0)/" })
            .joined(separator: "\n") + "\n"
        do {
            try top.write(toFile: (genRoot as NSString).appendingPathComponent("Kbuild"), atomically: true, encoding: .utf8)
            for d in dirs {
                let obj = ((d.c as NSString).lastPathComponent as NSString).deletingPathExtension
                let kbuild = "obj-m := \(obj).o\nccflags-y := \((cflags.split(separator: " ").map(String.init) + d.flags).joined(separator: " "))\n"
                try kbuild.write(toFile: (d.dir as NSString).appendingPathComponent("Kbuild"), atomically: true, encoding: .utf8)
            }
        } catch {
            throw SliceError("\(genRoot): \(error.localizedDescription)")
        }
        let absolute = URL(fileURLWithPath: genRoot).standardizedFileURL.path
        let jobs = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let log = (genRoot as NSString).appendingPathComponent("kbuild.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        p.arguments = ["-k", "-j\(jobs)", "-C", kdir, "M=\(absolute)", "KBUILD_MODPOST_WARN=1", "modules"]
        p.standardOutput = FileHandle(forWritingAtPath: log)
        p.standardError = p.standardOutput
        do { try p.run() } catch { throw SliceError("make: \(error.localizedDescription)") }
        p.waitUntilExit()
    }

    /// Where the runtime's headers and core (module/include, module/
    /// slice_core.c) and the driver library (slicer/lib) are: the checkout
    /// around the binary; nil for an installed driverslicer, which has
    /// neither (the sweep then builds no halves).
    static var runtimeDirectories: (include: String, core: String, lib: String)? {
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<5 {
            let include = dir.appendingPathComponent("module/include").path
            if FileManager.default.fileExists(atPath: include + "/drvslice.h") {
                return (include, dir.appendingPathComponent("module/slice_core.c").path, dir.appendingPathComponent("slicer/lib").path)
            }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    /// The kernel half's Kbuild: one module of the driver's rewritten
    /// sources and the runtime's core.
    static func kernelHalfKbuild(_ hdir: String, module m: SweepModule, runtime: (include: String, core: String, lib: String),
                                 flags: [String]) throws {
        let k = (hdir as NSString).appendingPathComponent("kernel")
        let objs = m.sources.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension + ".o" }
        let mod = "slice-" + MarshalingCode.cIdent(m.name)
        let kbuild = "obj-m := \(mod).o\n\(mod)-y := \(objs.joined(separator: " ")) slice_core.o\n"
            + "ccflags-y := -I\(runtime.include) -I\(m.directory) \(flags.joined(separator: " "))\n"
        do {
            try kbuild.write(toFile: (k as NSString).appendingPathComponent("Kbuild"), atomically: true, encoding: .utf8)
            let core = (k as NSString).appendingPathComponent("slice_core.c")
            try? FileManager.default.removeItem(atPath: core)
            try FileManager.default.copyItem(atPath: runtime.core, toPath: core)
        } catch {
            throw SliceError("\(k): \(error.localizedDescription)")
        }
    }

    /// Whether every file of the user half compiles as user-space code with
    /// the kernel's headers (--user-cflags), the driver library's
    /// drvslice-user.h first.
    static func userHalfBuilds(_ hdir: String, module m: SweepModule, runtime: (include: String, core: String, lib: String),
                               kdir: String) -> Bool {
        guard let flags = try? KbuildCommand.userSpaceFlags(cmdFile: m.cmdFile, buildDirectory: kdir) else { return false }
        for src in m.sources {
            let name = (src as NSString).lastPathComponent
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["gcc"] + flags + ["-I\(runtime.include)", "-I\(runtime.lib)", "-I\(m.directory)", "-c",
                                              "\(hdir)/user/\(name)", "-o", "\(hdir)/user/\((name as NSString).deletingPathExtension).o"]
            p.currentDirectoryURL = URL(fileURLWithPath: kdir)
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            guard (try? p.run()) != nil else { return false }
            p.waitUntilExit()
            if p.terminationStatus != 0 { return false }
        }
        return true
    }

    /// Whether `swiftc -typecheck -warnings-as-errors` accepts the file.
    static func typeChecks(_ swift: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["swiftc", "-typecheck", "-warnings-as-errors", swift]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
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
