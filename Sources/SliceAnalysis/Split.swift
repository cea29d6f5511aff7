// SPDX-License-Identifier: GPL-2.0

/// The split of one driver: the nucleus (critical roots and everything
/// they call) and the u-driver (the rest), with every crossing.
public struct Split: Sendable, Codable {
    /// A critical root and why.
    public struct Root: Sendable, Codable, Equatable {
        public let function: String
        public let role: RootRole
        public let via: String
        public let rule: String
    }
    /// A kernel-invoked function on the user side: an upcall.
    public struct Upcall: Sendable, Codable, Equatable {
        public let function: String
        public let via: String
        public let classified: Bool
    }
    /// A user-side function calling a nucleus function of the driver.
    public struct Downcall: Sendable, Codable, Equatable {
        public let caller: String
        public let callee: String
    }

    public let roots: [Root]
    /// Driver functions that stay in the kernel, sorted.
    public let kernel: [DriverFunction]
    /// Driver functions that move to the u-driver, sorted.
    public let user: [DriverFunction]
    public let upcalls: [Upcall]
    public let downcalls: [Downcall]
    /// Kernel functions the user side calls, with how many user functions call each.
    public let kernelAPIFromUser: [String: Int]
    /// Calls through pointers on each side (not resolved; reported).
    public let indirectCalls: [String: Int]

    public var kernelLines: Int { kernel.reduce(0) { $0 + $1.lines } }
    public var userLines: Int { user.reduce(0) { $0 + $1.lines } }
    /// Share of the driver's function lines that move to user space, in %.
    public var userPercent: Double {
        let all = kernelLines + userLines
        return all == 0 ? 0 : Double(userLines) * 100 / Double(all)
    }

    /// Critical roots from `interfaces`, expanded through the call graph:
    /// whatever a root calls is critical too.
    public init(graph g: CallGraph, interfaces: InterfaceTable) {
        var roots: [Root] = []
        var entry: [(String, String, Bool)] = []
        // Fields the driver calls through itself: storing a function there
        // is an internal call (resolved in the call graph), not an entry.
        let calledThrough = Set(g.fieldCalls.values.flatMap { $0 })
        for r in g.references {
            if case .field(let s, let f) = r.context, calledThrough.contains("\(s).\(f)"),
               interfaces.rule(for: r.context) == nil { continue }
            if let rule = interfaces.rule(for: r.context) {
                if rule.role == .user {
                    entry.append((r.function, r.context.description, true))
                } else {
                    roots.append(Root(function: r.function, role: rule.role, via: r.context.description, rule: rule.origin))
                }
            } else {
                entry.append((r.function, "\(r.context) at \(r.file):\(r.line)", false))
            }
        }
        var critical = Set(roots.map(\.function))
        var work = Array(critical)
        while let f = work.popLast() {
            for c in g.calls[f] ?? [] where critical.insert(c).inserted { work.append(c) }
        }
        let byLine: (DriverFunction, DriverFunction) -> Bool = { ($0.file, $0.line) < ($1.file, $1.line) }
        self.roots = roots.sorted { ($0.function, $0.via) < ($1.function, $1.via) }
        kernel = g.functions.values.filter { critical.contains($0.name) }.sorted(by: byLine)
        user = g.functions.values.filter { !critical.contains($0.name) }.sorted(by: byLine)
        var seen = Set<String>()
        upcalls = entry.filter { !critical.contains($0.0) }
            .filter { seen.insert("\($0.0) \($0.1)").inserted }
            .map { Upcall(function: $0.0, via: $0.1, classified: $0.2) }
            .sorted { ($0.function, $0.via) < ($1.function, $1.via) }
        downcalls = user.flatMap { u in (g.calls[u.name] ?? []).filter { critical.contains($0) }.sorted().map { Downcall(caller: u.name, callee: $0) } }
        var api: [String: Int] = [:]
        for u in user { for k in g.kernelCalls[u.name] ?? [] { api[k, default: 0] += 1 } }
        kernelAPIFromUser = api
        indirectCalls = g.indirectCalls
    }

}
