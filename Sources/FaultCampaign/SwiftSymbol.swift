// SPDX-License-Identifier: GPL-2.0

/// What the campaign reads from a Swift symbol name.
public enum SwiftSymbol {
    /// `$s7RTL81390A4MainV5$mainyyYaFZ` → `RTL8139`: the module of a Swift
    /// `@main` entry point, i.e. an executable's own module.
    public static func module(ofMain mangled: String) -> String? {
        guard mangled.hasPrefix("$s"), mangled.contains("5$main") else { return nil }
        let rest = mangled.dropFirst(2)
        let digits = rest.prefix { $0.isNumber }
        guard let n = Int(digits), n > 0 else { return nil }
        let name = rest.dropFirst(digits.count).prefix(n)
        return name.count == n ? String(name) : nil
    }
}
