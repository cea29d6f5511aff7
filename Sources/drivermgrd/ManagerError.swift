// SPDX-License-Identifier: GPL-2.0
import ControlInterface

/// An error a control method answers with; each maps to one varlink error.
enum ManagerError: Error, Sendable, CustomStringConvertible {
    case driverNotFound(String)
    /// A parameter of the right type whose value is not accepted (the
    /// Varlink type checks come first, in ControlServer).
    case invalidValue(String, String)
    case badState(String, String)
    case startFailed(String, String)
    case callFailed(errno: Int32, attribute: String?, message: String)
    case injectionRefused(String)
    /// `drvctl update` did not swap the u-driver (refused or rolled back).
    case updateFailed(String, String)

    var varlinkName: ManagerInterface.ErrorName {
        switch self {
        case .driverNotFound: return .driverNotFound
        case .invalidValue: return .invalidValue
        case .badState: return .badState
        case .startFailed: return .startFailed
        case .callFailed: return .callFailed
        case .injectionRefused: return .injectionRefused
        case .updateFailed: return .updateFailed
        }
    }

    var parameters: [String: JSONValue] {
        switch self {
        case .driverNotFound(let n): return ["name": .string(n)]
        case .invalidValue(let p, let why): return ["parameter": .string(p), "message": .string(why)]
        case .badState(let n, let s): return ["name": .string(n), "message": .string(s)]
        case .startFailed(let n, let why), .updateFailed(let n, let why): return ["name": .string(n), "message": .string(why)]
        case .injectionRefused(let n):
            return ["name": .string(n), "message": .string("fault injection is off; set FaultInjection=yes in [Recovery]")]
        case .callFailed(let e, let a, let m):
            var p: [String: JSONValue] = ["errno": .int(Int64(e)), "message": .string(m)]
            if let a { p["attribute"] = .string(a) }
            return p
        }
    }

    var description: String {
        switch self {
        case .driverNotFound(let n): return "no such driver: \(n)"
        case .invalidValue(let p, let why): return "invalid \(p): \(why)"
        case .badState(let n, let s): return "\(n): \(s)"
        case .startFailed(let n, let why), .updateFailed(let n, let why): return "\(n): \(why)"
        case .callFailed(_, _, let m): return m
        case .injectionRefused(let n): return "\(n): fault injection is off; set FaultInjection=yes in [Recovery]"
        }
    }
}
