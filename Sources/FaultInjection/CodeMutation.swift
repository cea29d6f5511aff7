// SPDX-License-Identifier: GPL-2.0
import CFaultInject

/// A kind of code mutation, in the style of the MINIX 3 and Nooks fault
/// injectors. The raw value is the name recorded in campaign results.
public enum CodeMutation: String, Sendable, Codable, CaseIterable {
    /// Flips one random bit of one random instruction.
    case bitFlip = "bit-flip"
    /// Inverts the condition of one conditional jump (jcc).
    case invertBranch = "invert-branch"
    /// Replaces one instruction by NOPs of its length.
    case nop
    /// When a thread reaches a random instruction, flips one bit of one of
    /// its general registers.
    case register
    /// When a thread reaches a random instruction, flips one bit of a word
    /// on its stack that points into a mapped region.
    case stackPointer = "stack-pointer"

    /// The C injector's `enum fi_kind` value.
    var injectorKind: Int32 {
        switch self {
        case .bitFlip: Int32(FI_BIT_FLIP.rawValue)
        case .invertBranch: Int32(FI_INVERT_BRANCH.rawValue)
        case .nop: Int32(FI_NOP.rawValue)
        case .register: Int32(FI_REGISTER.rawValue)
        case .stackPointer: Int32(FI_STACK_POINTER.rawValue)
        }
    }

    /// True for the kinds that leave changed bytes in the code until
    /// restored; false for those that corrupt a thread's state once.
    public var changesCode: Bool { self == .bitFlip || self == .invertBranch || self == .nop }
}

/// What one mutation did: enough to put it in a JSONL row, to replay it
/// (same seed, same executable) and to undo it with
/// ``CodeMutator/restore(_:)``.
///
/// Addresses are the running process's (the executable's link-time address
/// plus the load bias); ``offset`` is the same place relative to the
/// function, which stays put across runs of the same executable.
public struct AppliedMutation: Sendable, Codable, Hashable {
    /// The mutation kind.
    public var kind: CodeMutation
    /// The seed every choice was drawn from.
    public var seed: UInt64
    /// The process it was applied to (host pid).
    public var pid: Int32
    /// The function's symbol (mangled).
    public var function: String
    /// The function's name, demangled (the mangled name if that failed).
    public var functionDemangled: String
    /// Where the function starts in the process.
    public var functionAddress: UInt64
    /// Where the chosen instruction starts in the process.
    public var address: UInt64
    /// The chosen instruction's offset in the function.
    public var offset: UInt64
    /// The instruction's bytes before the mutation.
    public var originalBytes: [UInt8]
    /// The bytes the mutation wrote; equal to ``originalBytes`` for the
    /// register and stack kinds, whose planted int3 is already gone.
    public var mutatedBytes: [UInt8]
    /// The instruction before, disassembled.
    public var instructionBefore: String
    /// The instruction after, disassembled (its first instruction).
    public var instructionAfter: String
    /// Whether the code in memory now differs (until restored).
    public var codeChanged: Bool
    /// Register and stack kinds: whether a thread reached the instruction
    /// within the timeout; nil for the code kinds.
    public var reached: Bool?
    /// The thread that reached it (host tid).
    public var thread: Int32?
    /// Register kind: the register whose bit was flipped ("rax"...).
    public var register: String?
    /// The flipped bit: in the instruction's bytes (bit-flip), in the
    /// register, or in the stack word.
    public var bit: Int?
    /// Register kind: the register; stack kind: the stack word; before.
    public var oldValue: UInt64?
    /// The same, after.
    public var newValue: UInt64?
    /// Stack kind: the address of the corrupted stack word (nil when the
    /// instruction was reached but no word on the stack held a pointer).
    public var stackSlot: UInt64?
    /// The longest time any thread of the process was held stopped.
    public var longestStopMicroseconds: UInt64

    /// True when the fault is in place: code changed, or a register or a
    /// stack word corrupted. False for "not reached" (and for a stack fault
    /// that found no pointer): such a case counts as not injected.
    public var injected: Bool {
        switch kind {
        case .bitFlip, .invertBranch, .nop: codeChanged
        case .register: reached == true
        case .stackPointer: stackSlot != nil
        }
    }
}

/// A failure of the injector, with the C layer's errno and sentence.
public struct FaultInjectionError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The errno (positive), e.g. `EPERM` when ptrace is refused, `ESRCH`
    /// when the process is gone, `EBUSY` when the code in memory differs
    /// from the executable (a mutation not restored), `ENOENT` when no
    /// function had a candidate instruction.
    public let errno: Int32
    /// One readable line.
    public let message: String

    /// An error with this errno and sentence.
    public init(errno: Int32, message: String) {
        self.errno = errno
        self.message = message
    }

    public var description: String { message }

    /// Errors are equal when their errno is: the sentence is for people.
    public static func == (a: Self, b: Self) -> Bool { a.errno == b.errno }
}
