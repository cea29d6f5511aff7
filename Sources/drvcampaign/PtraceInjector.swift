// SPDX-License-Identifier: GPL-2.0
import FaultCampaign
import FaultInjection
import Synchronization

/// The campaign's code mutations through ``CodeMutator`` (ptrace, from
/// outside the sandbox). One mutator per u-driver process, kept while the
/// process lives: its symbol table is read once.
final class PtraceInjector: CodeFaultInjector {
    /// Where a planted trap may wait to be reached (register and stack
    /// faults); a fault whose point never runs is not counted as injected.
    let reachTimeout: Duration
    private let mutators = Mutex<[Int32: CodeMutator]>([:])

    /// The Swift modules besides the driver's own whose code counts as the
    /// driver's (the runtime library linked into every u-driver, as MINIX's
    /// drivers link libdriver): not the Swift runtime, not Foundation.
    static let runtimeModules = ["UDriverKit", "XPC"]

    init(reachTimeout: Duration = .milliseconds(300)) {
        self.reachTimeout = reachTimeout
    }

    /// A usable injector when this process may ptrace others.
    static func available() -> PtraceInjector? {
        CodeMutator.ptracePermitted().0 ? PtraceInjector() : nil
    }

    func place(_ kind: String, pid: Int32, modules: [String], seed: UInt64) throws -> PlacedCodeFault {
        guard let k = CodeMutation(rawValue: kind) else { throw CampaignError("no code mutation \(kind)") }
        let m = try mutator(pid, modules)
        let a = try m.apply(k, seed: seed, reachTimeout: reachTimeout)
        var what = "\(a.instructionBefore) -> \(a.instructionAfter)"
        if let r = a.register, let b = a.bit { what = "\(r) bit \(b) at \(a.instructionBefore)" }
        if let slot = a.stackSlot, let old = a.oldValue, let new = a.newValue {
            what = "stack 0x\(String(slot, radix: 16)): 0x\(String(old, radix: 16)) -> 0x\(String(new, radix: 16))"
        }
        let target = FaultTarget(function: a.functionDemangled, address: a.address, detail: what)
        return PlacedCodeFault(target: target, reached: a.injected) {
            _ = try? m.restore(a)
        }
    }

    /// The process's mutator; with no modules given, the executable's own
    /// module (the one that holds its `$main`) plus ``runtimeModules``.
    private func mutator(_ pid: Int32, _ modules: [String]) throws -> CodeMutator {
        if let m = mutators.withLock({ $0[pid] }) { return m }
        var want = modules
        if want.isEmpty {
            let probe = try CodeMutator(pid: pid, modules: Self.runtimeModules)
            if let own = probe.allFunctions.lazy.compactMap({ Self.module(ofMain: $0.name) }).first { want = [own] }
        }
        let m = try CodeMutator(pid: pid, modules: want + Self.runtimeModules)
        mutators.withLock { all in
            // Processes come and go with every recovery: keep the newest few.
            if all.count > 512 { all.removeAll() }
            all[pid] = m
        }
        return m
    }

    /// `$s7RTL81390A4MainV5$mainyyYaFZ` → `RTL8139`: the module of a Swift
    /// `@main` entry point.
    static func module(ofMain mangled: String) -> String? {
        guard mangled.hasPrefix("$s"), mangled.contains("5$main") else { return nil }
        let rest = mangled.dropFirst(2)
        let digits = rest.prefix { $0.isNumber }
        guard let n = Int(digits), n > 0 else { return nil }
        let name = rest.dropFirst(digits.count).prefix(n)
        return name.count == n ? String(name) : nil
    }
}
