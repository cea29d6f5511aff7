// SPDX-License-Identifier: GPL-2.0
// The two interfaces drivermgrd serves, each written once as a .varlink
// file beside this one and embedded at build time (Package.swift:
// resources .embedInCode): the server serves that text, checks calls
// against it, and the tests check the code's types against it.

extension ManagerInterface {
    /// io.drivermgr.Manager.varlink, as built in.
    public static let definitionText = String(decoding: PackageResources.io_drivermgr_Manager_varlink, as: UTF8.self)

    /// ``definitionText`` parsed.
    public static func definition() throws(VarlinkSyntaxError) -> VarlinkInterface {
        try VarlinkInterface(parsing: definitionText)
    }
}

/// org.varlink.service, the interface every Varlink service provides.
public enum VarlinkService {
    public static let name = "org.varlink.service"

    /// org.varlink.service.varlink, as built in.
    public static let definitionText = String(decoding: PackageResources.org_varlink_service_varlink, as: UTF8.self)

    /// ``definitionText`` parsed.
    public static func definition() throws(VarlinkSyntaxError) -> VarlinkInterface {
        try VarlinkInterface(parsing: definitionText)
    }

    /// Its methods.
    public enum Method: String, CaseIterable, Sendable {
        case getInfo = "GetInfo", getInterfaceDescription = "GetInterfaceDescription"
        public var fullName: String { "\(VarlinkService.name).\(rawValue)" }
    }

    /// Varlink's standard errors.
    public enum ErrorName: String, CaseIterable, Sendable {
        /// Parameters: `interface`.
        case interfaceNotFound = "InterfaceNotFound"
        /// Parameters: `method`.
        case methodNotFound = "MethodNotFound"
        /// Parameters: `method`.
        case methodNotImplemented = "MethodNotImplemented"
        /// Parameters: `parameter`, the top-level field at fault.
        case invalidParameter = "InvalidParameter"
        /// No parameters.
        case permissionDenied = "PermissionDenied"
        /// No parameters: the method streams, call it with `more`.
        case expectedMore = "ExpectedMore"
        public var fullName: String { "\(VarlinkService.name).\(rawValue)" }
    }
}
