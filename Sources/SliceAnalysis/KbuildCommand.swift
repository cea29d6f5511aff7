// SPDX-License-Identifier: GPL-2.0
import Foundation

/// The flags Kbuild compiled a file with, read from the `.NAME.o.cmd` file
/// it leaves beside the object (`cmd_… := gcc …`), kept to what the
/// preprocessor and parser need (-nostdinc, -I, -isystem, -include, -D,
/// -U, -std), with relative paths made absolute against the kernel build
/// directory Kbuild ran in. gcc's code-generation flags mean nothing to a
/// parser and some are unknown to clang, so they are dropped.
public enum KbuildCommand {
    /// Flags from `cmdFile`; `buildDirectory` is the kernel tree Kbuild ran
    /// in (/lib/modules/KVER/build). Errors name the file.
    public static func flags(cmdFile: String, buildDirectory: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: cmdFile, encoding: .utf8) else {
            throw SliceError("\(cmdFile): cannot read (build the module with Kbuild first)")
        }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cmd_") }),
              let eq = line.range(of: ":= ") else {
            throw SliceError("\(cmdFile):1: no `cmd_… := …` line")
        }
        let words = try shellWords(String(line[eq.upperBound...]), file: cmdFile)
        func absolute(_ p: String) -> String {
            p.hasPrefix("/") ? p : (buildDirectory as NSString).appendingPathComponent(p)
        }
        var out: [String] = []
        var i = 1 // words[0] is the compiler
        while i < words.count {
            let w = words[i]
            if w == ";" { break }
            if ["-include", "-isystem", "-I", "-iquote"].contains(w), i + 1 < words.count {
                out += [w, absolute(words[i + 1])]
                i += 2
                continue
            }
            if w.hasPrefix("-I") {
                out.append("-I" + absolute(String(w.dropFirst(2))))
            } else if w.hasPrefix("-D") || w.hasPrefix("-U") || w == "-nostdinc" || w.hasPrefix("-std=") {
                out.append(w)
            }
            i += 1
        }
        guard out.contains(where: { $0.hasPrefix("-I") }) else { throw SliceError("\(cmdFile):1: no include paths in the command") }
        return out
    }

    /// The flags to compile a sliced driver's user half (and the driver
    /// library beside it) as user-space code with the kernel's headers:
    /// the parser's flags of ``flags(cmdFile:buildDirectory:)`` with the
    /// C dialect and the options that decide what the headers and the
    /// compiled code mean (`-fshort-wchar`, `-fno-strict-aliasing`, no
    /// SSE/x87, `-O2`, …), and none of the kernel's code model: no
    /// `-mcmodel=kernel`, no retpoline or return thunks, no `-pg`/fentry, no
    /// %gs stack protector; `-fPIC -fno-stack-protector` instead, for a
    /// shared object a user process loads. Struct layouts do not depend on
    /// any flag dropped, so both halves see the same objects.
    public static func userSpaceFlags(cmdFile: String, buildDirectory: String) throws -> [String] {
        let parser = try flags(cmdFile: cmdFile, buildDirectory: buildDirectory)
        guard let text = try? String(contentsOfFile: cmdFile, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cmd_") }),
              let eq = line.range(of: ":= ") else {
            throw SliceError("\(cmdFile):1: no `cmd_… := …` line")
        }
        let kept: Set<String> = ["-fno-strict-aliasing", "-fno-common", "-fshort-wchar", "-m64", "-mno-sse", "-mno-mmx",
                                 "-mno-sse2", "-mno-3dnow", "-mno-avx", "-mno-80387", "-mno-fp-ret-in-387", "-O2",
                                 "-fno-delete-null-pointer-checks", "-fno-strict-overflow", "-fno-allow-store-data-races"]
        var codegen: [String] = []
        for w in try shellWords(String(line[eq.upperBound...]), file: cmdFile) {
            if w == ";" { break }
            if kept.contains(w) || w.hasPrefix("-ftrivial-auto-var-init=") { codegen.append(w) }
        }
        return parser.filter { $0 != "-DCC_USING_FENTRY" } + codegen + ["-fPIC", "-fno-stack-protector"]
    }

    /// Splits a shell command line the way sh would (single and double
    /// quotes, backslash escapes); `;` ends the first command.
    static func shellWords(_ s: String, file: String) throws -> [String] {
        var words: [String] = []
        var cur = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for ch in s {
            if escaped { cur.append(ch); escaped = false; inWord = true; continue }
            if let q = quote {
                if ch == q { quote = nil } else if ch == "\\" && q == "\"" { escaped = true } else { cur.append(ch) }
                continue
            }
            switch ch {
            case "'", "\"": quote = ch; inWord = true
            case "\\": escaped = true
            case " ", "\t":
                if inWord { words.append(cur); cur = ""; inWord = false }
            case ";":
                if inWord { words.append(cur); cur = ""; inWord = false }
                words.append(";")
                return words
            default: cur.append(ch); inWord = true
            }
        }
        if quote != nil { throw SliceError("\(file):1: unterminated quote in the command") }
        if inWord { words.append(cur) }
        return words
    }
}
