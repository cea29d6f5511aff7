// SPDX-License-Identifier: GPL-2.0
import CFaultInject
#if canImport(Glibc)
import Glibc
#endif

/// One function of the target executable, from its ELF `.symtab`.
public struct FunctionSymbol: Sendable, Hashable, Codable {
    /// The symbol's name, as linked (mangled).
    public let name: String
    /// Its link-time address (add the process's load bias for runtime).
    public let address: UInt64
    /// Its size in bytes.
    public let size: UInt64

    /// The name demangled by the Swift runtime; the symbol itself if it is
    /// not a Swift name.
    public var demangledName: String { demangleSwiftSymbol(name) ?? name }
}

/// Which instruction of the chosen function a mutation takes.
public enum InstructionChoice: String, Sendable, Codable {
    /// A random one (drawn from the seed): the MINIX 3 / Nooks model.
    case random
    /// The first candidate: the function's entry (for invert-branch, its
    /// first conditional jump). A register or stack fault planted there is
    /// reached whenever the function is called.
    case first
}

/// Selects "the driver's own code, not the Swift runtime": functions whose
/// mangled name belongs to one of the given Swift modules. A Swift symbol
/// of module `M` begins `$s` + the length of `M` + `M` (`$s7RTL8139...`),
/// so a module's closures, thunks and specialisations of its own generics
/// are in; the stdlib's, Foundation's and C functions are out.
public struct ModuleFilter: Sendable, Hashable {
    /// The module names, e.g. `["RTL8139"]` or `["RTL8139", "UDriverKit"]`.
    public let modules: [String]
    /// Functions named one by one: a driver in C (a sliced driver's user
    /// half) has no Swift module to name its code by.
    public let functions: Set<String>
    private let prefixes: [String]

    public init(modules: [String], functions: Set<String> = []) {
        self.modules = modules
        self.functions = functions
        prefixes = modules.filter { !$0.isEmpty }.map { "$s\($0.utf8.count)\($0)" }
    }

    /// Whether `mangledName` is a function of one of the modules, or one
    /// of the functions named.
    public func selects(_ mangledName: String) -> Bool {
        functions.contains(mangledName) || prefixes.contains { mangledName.hasPrefix($0) }
    }
}

/// Applies code mutations to one running process (a u-driver) through
/// ptrace, and undoes them.
///
/// Every call attaches to all of the process's threads, does its work and
/// detaches before it returns; nothing stays attached between calls. The
/// calls block (``apply(_:seed:reachTimeout:in:)`` up to its timeout for
/// the register and stack kinds), so call them from a thread that may
/// block, not from a hot path of the cooperative pool.
///
/// - Important: the process must be one the caller is entitled to break:
///   the mutations are destructive by design. Needs ptrace permission
///   (root, or CAP_SYS_PTRACE; or a child of the caller where Yama allows).
public final class CodeMutator: @unchecked Sendable {
    // @unchecked: the image is only read after init (pread on a private
    // fd, symbol table and bias immutable), so sharing it is safe.

    /// The target process (host pid).
    public let pid: Int32
    /// The module filter the candidate functions were chosen with.
    public let filter: ModuleFilter
    /// The candidate functions, by address: those the filter selects.
    public let functions: [FunctionSymbol]
    /// Every function symbol in the executable, selected or not.
    public let allFunctions: [FunctionSymbol]
    /// Runtime address minus link-time address.
    public let loadBias: UInt64
    private let image: OpaquePointer

    /// How many functions ``apply(_:seed:reachTimeout:in:)`` tries before
    /// giving up when the drawn ones have no candidate instruction (e.g.
    /// no conditional jump).
    public static let maxFunctionDraws = 256

    /// Reads `/proc/pid/exe`'s symbol table and the load bias from
    /// `/proc/pid/maps`. Throws when the process is gone, the executable
    /// is not a readable x86-64 ELF with a `.symtab`, or no function
    /// belongs to `modules`.
    public init(pid: Int32, modules: [String], functions: Set<String> = []) throws {
        var err = [CChar](repeating: 0, count: 256)
        var handle: OpaquePointer?
        let r = fi_image_open(pid, &handle, &err, err.count)
        guard r == 0, let handle else { throw Self.error(r, err) }
        var all: [FunctionSymbol] = []
        all.reserveCapacity(fi_image_symbol_count(handle))
        var sym = fi_symbol()
        for i in 0..<fi_image_symbol_count(handle) where fi_image_symbol(handle, i, &sym) == 0 {
            guard let name = sym.name else { continue }
            all.append(FunctionSymbol(name: String(cString: name), address: sym.address, size: sym.size))
        }
        self.pid = pid
        self.image = handle
        let filter = ModuleFilter(modules: modules, functions: functions)
        self.filter = filter
        self.allFunctions = all
        self.functions = all.filter { filter.selects($0.name) }
        self.loadBias = fi_image_bias(handle)
        guard !self.functions.isEmpty else {
            throw FaultInjectionError(errno: ENOENT,
                                      message: "no function of module(s) \(modules.joined(separator: ", "))\(functions.isEmpty ? "" : " nor of the \(functions.count) named") in pid \(pid)'s executable")
        }
    }

    deinit { fi_image_close(image) }

    /// The code bytes of `function` as the executable file has them.
    public func fileBytes(of function: FunctionSymbol) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Int(function.size))
        let r = fi_image_read(image, function.address, &bytes, bytes.count)
        guard r == 0 else { throw FaultInjectionError(errno: -r, message: "\(function.name) is not in the file") }
        return bytes
    }

    /// The candidate function with this mangled name, if any.
    public func function(named name: String) -> FunctionSymbol? {
        functions.first { $0.name == name }
    }

    /// Applies one mutation of `kind`. Every choice — the function (unless
    /// `function` is given), the instruction (unless `instruction` is
    /// ``InstructionChoice/first``), the bit, the register — is
    /// drawn from `seed`, so the same seed against the same executable
    /// picks the same target (the thread that reaches it, and the stack
    /// word, depend on the run).
    ///
    /// For ``CodeMutation/register`` and ``CodeMutation/stackPointer``, an
    /// int3 is planted and the process runs until a thread reaches it, at
    /// most `reachTimeout`; if none does, the result has `reached == false`
    /// and the code is as it was.
    ///
    /// Throws ``FaultInjectionError``: `EBUSY` if the code in memory
    /// already differs from the executable (restore the previous mutation
    /// first), `ESRCH` if the process went away, `EPERM` without ptrace
    /// permission, `ENOENT` if no drawn function had a candidate.
    public func apply(_ kind: CodeMutation, seed: UInt64, reachTimeout: Duration = .seconds(1),
                      in function: FunctionSymbol? = nil,
                      at instruction: InstructionChoice = .random) throws -> AppliedMutation {
        var rng = seed
        let timeoutMs = Self.milliseconds(reachTimeout)
        let draws = function == nil ? Self.maxFunctionDraws : 1
        var lastError = FaultInjectionError(errno: ENOENT, message: "no candidate function")
        for _ in 0..<draws {
            let target = function ?? functions[Int(fi_random_next(&rng) % UInt64(functions.count))]
            var out = fi_mutation()
            var err = [CChar](repeating: 0, count: 256)
            let flags = instruction == .first ? UInt32(FI_FIRST_INSTRUCTION.rawValue) : 0
            let r = fi_mutate(image, pid, kind.injectorKind, flags, target.address, target.size, &rng,
                              timeoutMs, &out, &err, err.count)
            if r == 0 { return Self.record(out, kind: kind, seed: seed, pid: pid, function: target) }
            lastError = Self.error(r, err)
            // Only "nothing to mutate here" moves on to the next draw.
            guard r == -ENOENT else { throw lastError }
        }
        throw FaultInjectionError(errno: ENOENT,
                                  message: "no function with a candidate for \(kind.rawValue) after \(draws) draw(s): \(lastError.message)")
    }

    /// Undoes `mutation` (see ``restore(_:)``).
    @discardableResult
    public func restore(_ mutation: AppliedMutation) throws -> Bool {
        try Self.restore(mutation)
    }

    /// Undoes `mutation` in its process: writes the original bytes back if
    /// the code still holds the mutated ones; for a stack fault, writes the
    /// old word back if the slot still holds the corrupted one. A register
    /// fault (or one not reached) has nothing to undo. Returns whether it
    /// wrote anything; throws `ESTALE` when the code holds neither the
    /// original nor the mutated bytes (another process, or another
    /// mutation on top), `ESRCH` when the process is gone.
    @discardableResult
    public static func restore(_ mutation: AppliedMutation) throws -> Bool {
        var m = fi_mutation()
        let n = mutation.originalBytes.count
        guard n <= Int(FI_MAX_BYTES), mutation.mutatedBytes.count == n else {
            throw FaultInjectionError(errno: EINVAL, message: "mutation record has \(n) bytes")
        }
        m.kind = mutation.kind.injectorKind
        m.code_changed = mutation.codeChanged ? 1 : 0
        m.corrupted = mutation.kind == .stackPointer && mutation.stackSlot != nil ? 1 : 0
        m.address = mutation.address
        m.length = UInt32(n)
        withUnsafeMutableBytes(of: &m.original) { $0.copyBytes(from: mutation.originalBytes) }
        withUnsafeMutableBytes(of: &m.mutated) { $0.copyBytes(from: mutation.mutatedBytes) }
        m.stack_slot = mutation.stackSlot ?? 0
        m.old_value = mutation.oldValue ?? 0
        m.new_value = mutation.newValue ?? 0
        var restored: Int32 = 0
        var err = [CChar](repeating: 0, count: 256)
        let r = fi_restore(mutation.pid, &m, &restored, &err, err.count)
        guard r == 0 else { throw error(r, err) }
        return restored != 0
    }

    /// Whether this process may ptrace (tried on a child of its own); the
    /// reason when not.
    public static func ptracePermitted() -> (Bool, String) {
        var err = [CChar](repeating: 0, count: 256)
        let r = fi_probe_ptrace(&err, err.count)
        return (r == 0, r == 0 ? "" : string(err))
    }

    /// Disassembles the first instruction of `bytes` (at `address`); nil
    /// when they are not an instruction.
    public static func disassemble(_ bytes: [UInt8], at address: UInt64 = 0) -> (text: String, length: Int)? {
        var text = [CChar](repeating: 0, count: 128)
        let n = fi_disassemble(bytes, bytes.count, address, &text, text.count)
        return n > 0 ? (string(text), Int(n)) : nil
    }

    /// Whether `bytes` begin with a conditional jump.
    public static func isConditionalJump(_ bytes: [UInt8]) -> Bool {
        fi_is_conditional_jump(bytes, bytes.count) != 0
    }

    private static func milliseconds(_ d: Duration) -> Int32 {
        let (s, atto) = d.components
        let ms = s * 1000 + atto / 1_000_000_000_000_000
        return Int32(clamping: max(0, ms))
    }

    private static func string(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func string<T>(tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    private static func bytes<T>(tuple: T, count: Int) -> [UInt8] {
        withUnsafeBytes(of: tuple) { Array($0.prefix(count)) }
    }

    private static func error(_ r: Int32, _ err: [CChar]) -> FaultInjectionError {
        let text = string(err)
        return FaultInjectionError(errno: -r, message: text.isEmpty ? String(cString: strerror(-r)) : text)
    }

    private static func record(_ m: fi_mutation, kind: CodeMutation, seed: UInt64, pid: Int32,
                               function: FunctionSymbol) -> AppliedMutation {
        let n = Int(min(m.length, UInt32(FI_MAX_BYTES)))
        let reaches = !kind.changesCode
        return AppliedMutation(
            kind: kind, seed: seed, pid: pid,
            function: function.name, functionDemangled: function.demangledName,
            functionAddress: m.function_address, address: m.address,
            offset: m.address &- m.function_address,
            originalBytes: bytes(tuple: m.original, count: n),
            mutatedBytes: bytes(tuple: m.mutated, count: n),
            instructionBefore: string(tuple: m.before), instructionAfter: string(tuple: m.after),
            codeChanged: m.code_changed != 0,
            reached: reaches ? m.reached != 0 : nil,
            thread: reaches && m.reached != 0 ? m.thread : nil,
            register: kind == .register && m.reached != 0 ? string(tuple: m.register_name) : nil,
            bit: m.bit >= 0 && (kind.changesCode || m.reached != 0) ? Int(m.bit) : nil,
            oldValue: kind == .register && m.reached != 0 || m.corrupted != 0 ? m.old_value : nil,
            newValue: kind == .register && m.reached != 0 || m.corrupted != 0 ? m.new_value : nil,
            stackSlot: m.corrupted != 0 ? m.stack_slot : nil,
            longestStopMicroseconds: m.longest_stop_us)
    }
}

/// The Swift runtime's demangler; nil if `name` is not a Swift symbol.
func demangleSwiftSymbol(_ name: String) -> String? {
    guard name.hasPrefix("$s") || name.hasPrefix("_$s") else { return nil }
    let utf8 = Array(name.utf8)
    guard let out = utf8.withUnsafeBufferPointer({ buf in
        buf.withMemoryRebound(to: CChar.self) { swift_demangle($0.baseAddress, $0.count, nil, nil, 0) }
    }) else { return nil }
    defer { free(out) }
    return String(cString: out)
}
