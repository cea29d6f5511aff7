// SPDX-License-Identifier: GPL-2.0
import ControlInterface
import ShadowDriver
import XPC

/// Everything the daemon knows about one device class (sound, net, …):
/// its shadow, what its replies must satisfy, the `drvctl call`
/// operations it offers and how DEVICE_INFO reads back as status. One
/// value per class, listed in ``DeviceClasses/all``; drivermgrd looks the
/// class up there and never names one.
public struct DeviceClassDescriptor: Sendable {
    /// The wire id (`DRVXPC_CLASS_*`); its ``XPCDeviceClass/name`` is the
    /// config-file spelling.
    public let wireClass: XPCDeviceClass
    /// Other spellings `Class=` accepts.
    public let aliases: [String]
    /// The DEVICE_INFO attribute naming what the nucleus registered the
    /// device as (CARD_NAME, IFNAME, INPUT_NAME).
    public let registeredName: XPCAttributeID
    /// What the nucleus registered the device as, in words, from its name
    /// (`card "Ensoniq AudioPCI"`, `interface eth0`).
    public let registration: @Sendable (String) -> String
    /// An empty shadow of the class.
    public let makeClassShadow: @Sendable () -> any ClassShadow
    /// The class's part of the reply contract: given a request and its
    /// successful reply, what is wrong with the reply, if anything. A
    /// violation is a `bad-parameter` failure of the u-driver.
    public let replyViolation: @Sendable (_ request: XPCMessage, _ reply: XPCMessage) -> ReplyViolation?
    /// `drvctl call` operations, in help order.
    public let operations: [ClassOperation]
    /// The class's fields of DEVICE_INFO, for `drvctl status`.
    public let decodeStatus: @Sendable (XPCMessage) -> ClassStatus
    /// The call drivermgrd makes to the nucleus before a recovery attempt
    /// resets the device, so that the data path's clients wait instead of
    /// feeding a chip in reset (net: DATAPATH_DISABLE, netif_stop_queue;
    /// sound: DATAPATH_DISABLE, DAC2 stopped with the stream kept
    /// running). nil: the class has none.
    public let holdClients: XPCOp?
    /// The call that releases them once the configuration is replayed into
    /// the reset device (sound: DATAPATH_ENABLE starts a held stream
    /// again). nil: the replay itself releases them (net: the replayed
    /// open's DATAPATH_ENABLE wakes the queue).
    public let releaseClients: XPCOp?
    /// The call drivermgrd makes to the nucleus before a fresh probe (a
    /// start that adopts nothing) of a device a previous u-driver may have
    /// left running, so that the probe's reset is not made under a running
    /// data path (net: DATAPATH_DISABLE; the NICs' write checks refuse a
    /// reset while the data path is on, and the u-driver's open hands it
    /// over again). nil: the class has none.
    public let takeBackBeforeProbe: XPCOp?
    /// The call drivermgrd makes to the nucleus once a fresh probe (a
    /// start that adopted nothing) is serving, so that the device's
    /// clients are served as before it (net: RESYNC_CLIENTS; an interface
    /// that stayed up across `drvctl stop`/`start` or a restart of
    /// drivermgrd is opened again, since the kernel opens it only on its
    /// way up). nil: the class has none.
    public let resyncAfterFreshStart: XPCOp?

    public init(wireClass: XPCDeviceClass, aliases: [String] = [], registeredName: XPCAttributeID,
                registration: @escaping @Sendable (String) -> String,
                makeClassShadow: @escaping @Sendable () -> any ClassShadow,
                replyViolation: @escaping @Sendable (XPCMessage, XPCMessage) -> ReplyViolation?,
                operations: [ClassOperation],
                decodeStatus: @escaping @Sendable (XPCMessage) -> ClassStatus,
                holdClients: XPCOp? = nil, releaseClients: XPCOp? = nil, takeBackBeforeProbe: XPCOp? = nil,
                resyncAfterFreshStart: XPCOp? = nil) {
        self.holdClients = holdClients
        self.resyncAfterFreshStart = resyncAfterFreshStart
        self.takeBackBeforeProbe = takeBackBeforeProbe
        self.releaseClients = releaseClients
        self.wireClass = wireClass
        self.aliases = aliases
        self.registeredName = registeredName
        self.registration = registration
        self.makeClassShadow = makeClassShadow
        self.replyViolation = replyViolation
        self.operations = operations
        self.decodeStatus = decodeStatus
    }

    /// `sound`, `net`, …
    public var name: String { wireClass.name }

    /// An empty shadow of the class.
    public func makeShadow() -> Shadow { Shadow(makeClassShadow()) }

    /// The operation called `name`, if the class has one.
    public func operation(_ name: String) -> ClassOperation? { operations.first { $0.name == name } }
}

/// A reply outside its contract: what is wrong and the attribute at fault.
public struct ReplyViolation: Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let attribute: XPCAttributeID?
    public init(_ message: String, attribute: XPCAttributeID? = nil) {
        self.message = message
        self.attribute = attribute
    }
    public var description: String { message }
}

/// A `drvctl call` argument that does not parse; the message says what was
/// expected.
public struct OperationArgumentError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One `drvctl call` operation of a class: its arguments become an upcall,
/// the upcall's reply becomes named values.
public struct ClassOperation: Sendable {
    /// `mixer-get`, `rx-mode`, …
    public let name: String
    /// Argument synopsis for help texts (`master|pcm VALUE`).
    public let synopsis: String
    /// Arguments → the upcall's op and attributes; throws naming what is wrong.
    public let parse: @Sendable ([String]) throws -> (XPCOp, [XPCAttribute])
    /// The reply → named values for drvctl.
    public let result: @Sendable (XPCMessage) -> [String: String]

    public init(name: String, synopsis: String,
                parse: @escaping @Sendable ([String]) throws -> (XPCOp, [XPCAttribute]),
                result: @escaping @Sendable (XPCMessage) -> [String: String] = { _ in [:] }) {
        self.name = name
        self.synopsis = synopsis
        self.parse = parse
        self.result = result
    }

    /// Argument `i`, or an error saying the operation needs `what`.
    public static func argument(_ args: [String], _ i: Int, of op: String, _ what: String) throws -> String {
        guard i < args.count else { throw OperationArgumentError("\(op) needs \(what)") }
        return args[i]
    }

    /// Refuses arguments past the first `count`.
    public static func noMoreThan(_ count: Int, _ args: [String], of op: String) throws {
        guard args.count <= count else {
            throw OperationArgumentError("\(op) takes \(count == 0 ? "no" : "at most \(count)") argument\(count == 1 ? "" : "s")")
        }
    }
}

/// A class's reading of DEVICE_INFO: lines for people, values for JSON.
public struct ClassStatus: Sendable, Equatable {
    /// Labelled lines, in display order.
    public var fields: [StatusField] = []
    /// Values by their JSON key.
    public var values: [String: JSONValue] = [:]
    public init(fields: [StatusField] = [], values: [String: JSONValue] = [:]) {
        self.fields = fields
        self.values = values
    }

    /// Adds a line.
    public mutating func line(_ label: String, _ text: String) { fields.append(StatusField(label: label, text: text)) }
    /// Sets value `key` to an unsigned integer attribute, if present.
    public mutating func number(_ key: String, _ v: (some BinaryInteger)?) {
        if let v { values[key] = .integer(v) }
    }
    public mutating func flag(_ key: String, _ v: Bool?) {
        if let v { values[key] = .bool(v) }
    }
    public mutating func text(_ key: String, _ v: String?) {
        if let v { values[key] = .string(v) }
    }
}

extension DeviceClassDescriptor: Equatable {
    /// Two descriptors are equal when they describe the same wire class.
    public static func == (a: DeviceClassDescriptor, b: DeviceClassDescriptor) -> Bool { a.wireClass == b.wireClass }
}
