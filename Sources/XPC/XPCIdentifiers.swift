// SPDX-License-Identifier: GPL-2.0
import CDrvXPC

/// An XPC operation number (`enum drvxpc_op` in drvxpc.h).
///
/// The number's range tells its direction: control (daemon ⇄ u-driver),
/// management (daemon ⇄ nucleus), upcall (nucleus → u-driver) or downcall
/// (u-driver → nucleus).
public struct XPCOp: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    init(_ op: drvxpc_op) { self.rawValue = UInt16(op.rawValue) }

    public static let hello = XPCOp(DRVXPC_OP_HELLO)
    public static let ping = XPCOp(DRVXPC_OP_PING)
    public static let shutdown = XPCOp(DRVXPC_OP_SHUTDOWN)
    public static let inject = XPCOp(DRVXPC_OP_INJECT)
    public static let sandbox = XPCOp(DRVXPC_OP_SANDBOX)
    /// A new daemon holds the channel: the u-driver sends its unanswered
    /// downcalls again (the dead daemon may have read them).
    public static let takeover = XPCOp(DRVXPC_OP_TAKEOVER)
    public static let quiesce = XPCOp(DRVXPC_OP_QUIESCE)
    /// Recovery's third tier: the nucleus re-adds the PCI function under
    /// the same instance (disabled, config space restored, enabled), the
    /// class's registrations kept.
    public static let deviceReadd = XPCOp(DRVXPC_OP_DEVICE_READD)
    public static let register = XPCOp(DRVXPC_OP_REGISTER)
    /// The daemon stops on purpose: the nucleus expects no next one, and
    /// upcalls made from then on fail at once (EAGAIN) instead of waiting.
    public static let unregister = XPCOp(DRVXPC_OP_UNREGISTER)
    /// After a u-driver started afresh under a device's clients, the
    /// nucleus makes again the upcalls their state implies (an interface
    /// that is up: NET_OPEN and NET_SET_RX_MODE).
    public static let resyncClients = XPCOp(DRVXPC_OP_RESYNC_CLIENTS)
    public static let deviceAdd = XPCOp(DRVXPC_OP_DEVICE_ADD)
    public static let deviceInfo = XPCOp(DRVXPC_OP_DEVICE_INFO)
    public static let simControl = XPCOp(DRVXPC_OP_SIM_CONTROL)
    public static let probe = XPCOp(DRVXPC_OP_PROBE)
    public static let remove = XPCOp(DRVXPC_OP_REMOVE)
    public static let sndOpen = XPCOp(DRVXPC_OP_SND_OPEN)
    public static let sndClose = XPCOp(DRVXPC_OP_SND_CLOSE)
    public static let sndHwParams = XPCOp(DRVXPC_OP_SND_HW_PARAMS)
    public static let sndPrepare = XPCOp(DRVXPC_OP_SND_PREPARE)
    public static let sndMixerGet = XPCOp(DRVXPC_OP_SND_MIXER_GET)
    public static let sndMixerPut = XPCOp(DRVXPC_OP_SND_MIXER_PUT)
    public static let netOpen = XPCOp(DRVXPC_OP_NET_OPEN)
    public static let netStop = XPCOp(DRVXPC_OP_NET_STOP)
    public static let netSetRxMode = XPCOp(DRVXPC_OP_NET_SET_RX_MODE)
    public static let netSetMac = XPCOp(DRVXPC_OP_NET_SET_MAC)
    public static let netGetLink = XPCOp(DRVXPC_OP_NET_GET_LINK)
    public static let netGetStats = XPCOp(DRVXPC_OP_NET_GET_STATS)
    public static let netWatchdog = XPCOp(DRVXPC_OP_NET_WATCHDOG)
    public static let netTxTimeout = XPCOp(DRVXPC_OP_NET_TX_TIMEOUT)
    public static let regRead = XPCOp(DRVXPC_OP_REG_READ)
    public static let regWrite = XPCOp(DRVXPC_OP_REG_WRITE)
    public static let regSeq = XPCOp(DRVXPC_OP_REG_SEQ)
    public static let dmaAlloc = XPCOp(DRVXPC_OP_DMA_ALLOC)
    public static let dmaFree = XPCOp(DRVXPC_OP_DMA_FREE)
    public static let regWriteDMA = XPCOp(DRVXPC_OP_REG_WRITE_DMA)
    public static let datapathEnable = XPCOp(DRVXPC_OP_DATAPATH_ENABLE)
    public static let datapathDisable = XPCOp(DRVXPC_OP_DATAPATH_DISABLE)
    public static let sndRegister = XPCOp(DRVXPC_OP_SND_REGISTER)
    public static let netRegister = XPCOp(DRVXPC_OP_NET_REGISTER)
    public static let netCarrier = XPCOp(DRVXPC_OP_NET_CARRIER)
    /// Input: change the mouse's rate, resolution, scaling or streaming.
    public static let inputSet = XPCOp(DRVXPC_OP_INPUT_SET)
    /// Input: the nucleus lost the packet stream's sync; check the mouse.
    public static let inputResync = XPCOp(DRVXPC_OP_INPUT_RESYNC)
    /// Input: register (or, reattaching, find) the input device.
    public static let inputRegister = XPCOp(DRVXPC_OP_INPUT_REGISTER)
    /// Input: one PS/2 command through the nucleus (libps2's ps2_command).
    public static let ps2Command = XPCOp(DRVXPC_OP_PS2_COMMAND)
    /// Input: the idle check's silence in seconds (psmouse's resync_time).
    public static let inputResyncTime = XPCOp(DRVXPC_OP_INPUT_RESYNC_TIME)
    /// USB host: a root-hub request (usbcore's hub_control) for the u-driver.
    public static let usbHubControl = XPCOp(DRVXPC_OP_USB_HUB_CONTROL)
    /// USB host: the controller stopped on an error (USBSTS in REG_VALUE).
    public static let usbHcError = XPCOp(DRVXPC_OP_USB_HC_ERROR)
    /// USB host: make settings (FSBR; replayed: the root hub's state).
    public static let usbHcSet = XPCOp(DRVXPC_OP_USB_HC_SET)
    /// USB host: the nucleus's schedule (frame list), built once; its DMA handle.
    public static let usbSchedule = XPCOp(DRVXPC_OP_USB_SCHEDULE)
    /// USB host: register (or, reattaching, find) the usb_hcd with usbcore.
    public static let usbRegister = XPCOp(DRVXPC_OP_USB_REGISTER)
    /// USB host: the ports with an uncleared change, for hub_status_data.
    public static let usbPortChange = XPCOp(DRVXPC_OP_USB_PORT_CHANGE)
    /// USB host: the nucleus's side of the settings (FSBR, controller state).
    public static let usbSet = XPCOp(DRVXPC_OP_USB_SET)
    /// A sliced driver's call into its u-driver half: the SLICE_* attributes
    /// module/slice_core.c writes (docs/driverslicer.md).
    public static let sliceUpcall = XPCOp(DRVXPC_OP_SLICE_UPCALL)
    /// A sliced driver's u-driver half calling its nucleus half or the kernel API.
    public static let sliceDowncall = XPCOp(DRVXPC_OP_SLICE_DOWNCALL)
    /// A sliced u-driver asks the nucleus to run the driver's PCI probe
    /// (which calls back into it as a SLICE_UPCALL).
    public static let sliceProbe = XPCOp(DRVXPC_OP_SLICE_PROBE)

    /// Whether drvxpc.h defines this operation.
    public var isKnown: Bool { drvxpc_op_name(UInt32(rawValue)) != nil }
    /// Control operation (daemon ⇄ u-driver).
    public var isControl: Bool { (1...31).contains(rawValue) }
    /// Management operation (daemon ⇄ nucleus).
    public var isManagement: Bool { (32...63).contains(rawValue) }
    /// Upcall (nucleus → daemon → u-driver).
    public var isUpcall: Bool { (64...127).contains(rawValue) }
    /// Downcall (u-driver → daemon → nucleus).
    public var isDowncall: Bool { (128...191).contains(rawValue) }

    /// How long the nucleus may take to answer this downcall
    /// (`drvxpc_downcall_ms`: 2 s, longer for an op whose kernel work has a
    /// longer bound of its own, such as a PS/2 mouse's reset). drivermgrd
    /// waits this long for a downcall it forwards.
    public var downcallDeadline: Duration { .milliseconds(Int(drvxpc_downcall_ms(UInt32(rawValue)))) }

    /// The name as in drvxpc.h, e.g. `SND_HW_PARAMS`; `OP_<n>` if unknown.
    public var name: String {
        guard let c = drvxpc_op_name(UInt32(rawValue)) else { return "OP_\(rawValue)" }
        return String(cString: c)
    }
    public var description: String { name }
}

/// An attribute id (`enum drvxpc_attr_id` in drvxpc.h).
public struct XPCAttributeID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    init(_ id: drvxpc_attr_id) { self.rawValue = UInt16(id.rawValue) }

    public static let version = XPCAttributeID(DRVXPC_A_VERSION)
    public static let driverName = XPCAttributeID(DRVXPC_A_DRIVER_NAME)
    public static let deviceClass = XPCAttributeID(DRVXPC_A_CLASS)
    public static let pciVendor = XPCAttributeID(DRVXPC_A_PCI_VENDOR)
    public static let pciDevice = XPCAttributeID(DRVXPC_A_PCI_DEVICE)
    public static let pciRevision = XPCAttributeID(DRVXPC_A_PCI_REVISION)
    public static let pciSlot = XPCAttributeID(DRVXPC_A_PCI_SLOT)
    public static let barSize = XPCAttributeID(DRVXPC_A_BAR_SIZE)
    public static let irq = XPCAttributeID(DRVXPC_A_IRQ)
    public static let chipName = XPCAttributeID(DRVXPC_A_CHIP_NAME)
    public static let regOffset = XPCAttributeID(DRVXPC_A_REG_OFFSET)
    public static let regWidth = XPCAttributeID(DRVXPC_A_REG_WIDTH)
    public static let regValue = XPCAttributeID(DRVXPC_A_REG_VALUE)
    public static let regMask = XPCAttributeID(DRVXPC_A_REG_MASK)
    public static let regOp = XPCAttributeID(DRVXPC_A_REG_OP)
    public static let regOpKind = XPCAttributeID(DRVXPC_A_REG_OP_KIND)
    public static let regSeq = XPCAttributeID(DRVXPC_A_REG_SEQ)
    public static let regResults = XPCAttributeID(DRVXPC_A_REG_RESULTS)
    public static let delayMicros = XPCAttributeID(DRVXPC_A_DELAY_US)
    public static let dmaHandle = XPCAttributeID(DRVXPC_A_DMA_HANDLE)
    public static let dmaSize = XPCAttributeID(DRVXPC_A_DMA_SIZE)
    public static let dmaOffset = XPCAttributeID(DRVXPC_A_DMA_OFFSET)
    public static let object = XPCAttributeID(DRVXPC_A_OBJECT)
    public static let objectID = XPCAttributeID(DRVXPC_A_OBJECT_ID)
    public static let objectKind = XPCAttributeID(DRVXPC_A_OBJECT_KIND)
    public static let objectRole = XPCAttributeID(DRVXPC_A_OBJECT_ROLE)
    public static let pcmRate = XPCAttributeID(DRVXPC_A_PCM_RATE)
    public static let pcmChannels = XPCAttributeID(DRVXPC_A_PCM_CHANNELS)
    public static let pcmFormat = XPCAttributeID(DRVXPC_A_PCM_FORMAT)
    public static let pcmPeriodFrames = XPCAttributeID(DRVXPC_A_PCM_PERIOD_FRAMES)
    public static let pcmBufferFrames = XPCAttributeID(DRVXPC_A_PCM_BUFFER_FRAMES)
    public static let mixerControl = XPCAttributeID(DRVXPC_A_MIXER_CONTROL)
    public static let mixerValue = XPCAttributeID(DRVXPC_A_MIXER_VALUE)
    public static let cardName = XPCAttributeID(DRVXPC_A_CARD_NAME)
    public static let mac = XPCAttributeID(DRVXPC_A_MAC)
    public static let rxFlags = XPCAttributeID(DRVXPC_A_RX_FLAGS)
    public static let mcList = XPCAttributeID(DRVXPC_A_MC_LIST)
    public static let linkUp = XPCAttributeID(DRVXPC_A_LINK_UP)
    public static let linkSpeed = XPCAttributeID(DRVXPC_A_LINK_SPEED)
    public static let linkDuplex = XPCAttributeID(DRVXPC_A_LINK_DUPLEX)
    public static let ifname = XPCAttributeID(DRVXPC_A_IFNAME)
    public static let statRxPackets = XPCAttributeID(DRVXPC_A_STAT_RX_PACKETS)
    public static let statTxPackets = XPCAttributeID(DRVXPC_A_STAT_TX_PACKETS)
    public static let statRxBytes = XPCAttributeID(DRVXPC_A_STAT_RX_BYTES)
    public static let statTxBytes = XPCAttributeID(DRVXPC_A_STAT_TX_BYTES)
    public static let statRxErrors = XPCAttributeID(DRVXPC_A_STAT_RX_ERRORS)
    public static let statTxErrors = XPCAttributeID(DRVXPC_A_STAT_TX_ERRORS)
    public static let statRxDropped = XPCAttributeID(DRVXPC_A_STAT_RX_DROPPED)
    public static let statMulticast = XPCAttributeID(DRVXPC_A_STAT_MULTICAST)
    public static let framesPlayed = XPCAttributeID(DRVXPC_A_FRAMES_PLAYED)
    public static let periods = XPCAttributeID(DRVXPC_A_PERIODS)
    public static let underruns = XPCAttributeID(DRVXPC_A_UNDERRUNS)
    public static let datapathOn = XPCAttributeID(DRVXPC_A_DATAPATH_ON)
    public static let regDump = XPCAttributeID(DRVXPC_A_REG_DUMP)
    public static let errAttr = XPCAttributeID(DRVXPC_A_ERR_ATTR)
    public static let errMsg = XPCAttributeID(DRVXPC_A_ERR_MSG)
    public static let simAction = XPCAttributeID(DRVXPC_A_SIM_ACTION)
    public static let clientErrors = XPCAttributeID(DRVXPC_A_CLIENT_ERRORS)
    public static let codecMaster = XPCAttributeID(DRVXPC_A_CODEC_MASTER)
    public static let rxConfig = XPCAttributeID(DRVXPC_A_RX_CONFIG)
    public static let mcFilter = XPCAttributeID(DRVXPC_A_MC_FILTER)
    public static let glitches = XPCAttributeID(DRVXPC_A_GLITCHES)
    public static let statFiltered = XPCAttributeID(DRVXPC_A_STAT_FILTERED)
    public static let statEchoed = XPCAttributeID(DRVXPC_A_STAT_ECHOED)
    public static let count = XPCAttributeID(DRVXPC_A_COUNT)
    public static let samplesNanos = XPCAttributeID(DRVXPC_A_SAMPLES_NS)
    public static let faultKind = XPCAttributeID(DRVXPC_A_FAULT_KIND)
    public static let syscallName = XPCAttributeID(DRVXPC_A_SYSCALL_NAME)
    public static let xpcBytes = XPCAttributeID(DRVXPC_A_XPC_BYTES)
    public static let xpcMessages = XPCAttributeID(DRVXPC_A_XPC_MESSAGES)
    public static let comboUserHolds = XPCAttributeID(DRVXPC_A_COMBO_USER_HOLDS)
    public static let comboDeferrals = XPCAttributeID(DRVXPC_A_COMBO_DEFERRALS)
    public static let xpcRegIOBytes = XPCAttributeID(DRVXPC_A_XPC_REGIO_BYTES)
    public static let regSteps = XPCAttributeID(DRVXPC_A_REG_STEPS)
    public static let sliceStruct = XPCAttributeID(DRVXPC_A_SLICE_STRUCT)
    public static let sliceStructID = XPCAttributeID(DRVXPC_A_SLICE_STRUCT_ID)
    public static let sliceField = XPCAttributeID(DRVXPC_A_SLICE_FIELD)
    public static let sliceFieldID = XPCAttributeID(DRVXPC_A_SLICE_FIELD_ID)
    public static let sliceFieldValue = XPCAttributeID(DRVXPC_A_SLICE_FIELD_VALUE)
    /// A NIC's multicast hash table read back from the chip: bit n = hash value n.
    public static let mcHash = XPCAttributeID(DRVXPC_A_MC_HASH)
    /// REG_WRITE_DMA: the bus address is shifted right by this many bits first.
    public static let dmaShift = XPCAttributeID(DRVXPC_A_DMA_SHIFT)
    /// The sim's network client: frames it handed to start_xmit.
    public static let statClientSent = XPCAttributeID(DRVXPC_A_STAT_CLIENT_SENT)
    /// The nucleus's id of an upcall, passed on to the u-driver so that an
    /// upcall a dead daemon left unanswered, redelivered, runs only once.
    public static let upcallID = XPCAttributeID(DRVXPC_A_UPCALL_ID)
    /// The daemon's id of a downcall (the u-driver's pid << 32 | its seq).
    public static let callID = XPCAttributeID(DRVXPC_A_CALL_ID)
    /// HELLO's reply: the u-driver's build (GNU build-id of its executable, hex).
    public static let buildID = XPCAttributeID(DRVXPC_A_BUILD_ID)
    /// The bus a device is on (`enum drvxpc_bus`); absent means PCI.
    public static let bus = XPCAttributeID(DRVXPC_A_BUS)
    public static let serioType = XPCAttributeID(DRVXPC_A_SERIO_TYPE)
    public static let serioProto = XPCAttributeID(DRVXPC_A_SERIO_PROTO)
    /// The kernel's name of a serio port (`serio1`).
    public static let serioPort = XPCAttributeID(DRVXPC_A_SERIO_PORT)
    /// `enum drvxpc_mouse_proto`.
    public static let inputProtocol = XPCAttributeID(DRVXPC_A_INPUT_PROTOCOL)
    public static let inputName = XPCAttributeID(DRVXPC_A_INPUT_NAME)
    /// A PS/2 command in libps2's encoding.
    public static let ps2Cmd = XPCAttributeID(DRVXPC_A_PS2_CMD)
    /// A PS/2 command's parameter bytes out; in the reply, the bytes the mouse answered.
    public static let ps2Param = XPCAttributeID(DRVXPC_A_PS2_PARAM)
    public static let mouseRate = XPCAttributeID(DRVXPC_A_MOUSE_RATE)
    public static let mouseResolution = XPCAttributeID(DRVXPC_A_MOUSE_RESOLUTION)
    public static let mouseScaling = XPCAttributeID(DRVXPC_A_MOUSE_SCALING)
    public static let inputPackets = XPCAttributeID(DRVXPC_A_INPUT_PACKETS)
    public static let inputResyncs = XPCAttributeID(DRVXPC_A_INPUT_RESYNCS)
    /// The sim's input client: gaps (lost or repeated packets) it saw.
    public static let inputLost = XPCAttributeID(DRVXPC_A_INPUT_LOST)
    /// PS/2 commands the nucleus ran for the u-driver.
    public static let inputCommands = XPCAttributeID(DRVXPC_A_INPUT_COMMANDS)
    /// Of them, resets (RESET_BAT): a recovery that reattaches adds none.
    public static let inputResets = XPCAttributeID(DRVXPC_A_INPUT_RESETS)
    /// Seconds of silence after which the next packet has the mouse
    /// checked (psmouse's resync_time; 0: never).
    public static let mouseResyncTime = XPCAttributeID(DRVXPC_A_MOUSE_RESYNC_TIME)
    /// A check the nucleus asked for that no ENABLE has ended yet.
    public static let inputCheckPending = XPCAttributeID(DRVXPC_A_INPUT_CHECK_PENDING)
    /// Idle checks the nucleus asked for.
    public static let inputIdleChecks = XPCAttributeID(DRVXPC_A_INPUT_IDLE_CHECKS)
    /// Whether the nucleus's FSBR loop is linked now.
    public static let usbFSBRActive = XPCAttributeID(DRVXPC_A_USB_FSBR_ACTIVE)
    /// How often the FSBR loop was linked.
    public static let usbFSBROns = XPCAttributeID(DRVXPC_A_USB_FSBR_ONS)
    /// A root-hub request: bmRequestType << 8 | bRequest (hub_control's typeReq).
    public static let usbRequest = XPCAttributeID(DRVXPC_A_USB_REQUEST)
    public static let usbValue = XPCAttributeID(DRVXPC_A_USB_VALUE)
    public static let usbIndex = XPCAttributeID(DRVXPC_A_USB_INDEX)
    public static let usbLength = XPCAttributeID(DRVXPC_A_USB_LENGTH)
    /// A root-hub request's data stage (the reply's, for an IN request).
    public static let usbData = XPCAttributeID(DRVXPC_A_USB_DATA)
    /// Bit n: port n has a change the hub driver has not cleared.
    public static let usbPortChanges = XPCAttributeID(DRVXPC_A_USB_PORT_CHANGES)
    public static let usbPorts = XPCAttributeID(DRVXPC_A_USB_PORTS)
    /// `enum drvxpc_usb_hc_state`.
    public static let usbHcState = XPCAttributeID(DRVXPC_A_USB_HC_STATE)
    /// Full-speed bandwidth reclamation on (1) or off (0).
    public static let usbFSBR = XPCAttributeID(DRVXPC_A_USB_FSBR)
    /// usbcore's name of the bus (`usb3`).
    public static let usbBusName = XPCAttributeID(DRVXPC_A_USB_BUS_NAME)
    /// Bit n: device address n is in use on the bus.
    public static let usbAddresses = XPCAttributeID(DRVXPC_A_USB_ADDRESSES)
    public static let usbURBs = XPCAttributeID(DRVXPC_A_USB_URBS)
    public static let usbURBErrors = XPCAttributeID(DRVXPC_A_USB_URB_ERRORS)
    public static let usbBytes = XPCAttributeID(DRVXPC_A_USB_BYTES)
    public static let usbHcErrors = XPCAttributeID(DRVXPC_A_USB_HC_ERRORS)
    public static let usbPortPolls = XPCAttributeID(DRVXPC_A_USB_PORT_POLLS)
    /// Bit n: port n's reset ended and C_PORT_RESET is not yet cleared.
    public static let usbResetChanges = XPCAttributeID(DRVXPC_A_USB_RESET_CHANGES)
    /// Bit n: port n is suspended.
    public static let usbSuspended = XPCAttributeID(DRVXPC_A_USB_SUSPENDED)

    /// The payload kind drvxpc.h declares, or nil if the id is unknown.
    public var kind: XPCAttributeKind? {
        let k = drvxpc_attr_kind(UInt32(rawValue))
        return k < 0 ? nil : XPCAttributeKind(rawValue: k)
    }
    /// The largest payload drvxpc.h allows.
    public var maxLength: Int { Int(drvxpc_attr_max(UInt32(rawValue))) }
    /// The declared integer range, if bounded.
    public var range: ClosedRange<UInt64>? {
        var lo: UInt64 = 0, hi: UInt64 = 0
        return drvxpc_attr_range(UInt32(rawValue), &lo, &hi) != 0 ? lo...hi : nil
    }
    /// The name as in drvxpc.h, e.g. `PCM_RATE`; `ATTR_<n>` if unknown.
    public var name: String {
        guard let c = drvxpc_attr_name(UInt32(rawValue)) else { return "ATTR_\(rawValue)" }
        return String(cString: c)
    }
    public var description: String { name }
}

/// Payload kinds (`enum drvxpc_kind`).
public enum XPCAttributeKind: Int32, Sendable {
    case flag = 0, u8, u16, u32, u64, s32, string, binary, nested, mac
}

/// Device classes (`enum drvxpc_class`).
public enum XPCDeviceClass: UInt8, Sendable, CaseIterable {
    case sound = 1
    case net = 2
    case input = 3
    case usbHost = 4

    /// The config-file spelling: the case's name, words joined by '-'
    /// (`sound`, `net`; a `usbHost` case would be `usb-host`).
    public var name: String {
        String(describing: self).reduce(into: "") { out, ch in
            if ch.isUppercase { out += "-" + ch.lowercased() } else { out.append(ch) }
        }
    }
    /// Parses the config-file spelling.
    public init?(name: String) {
        guard let c = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = c
    }
}

/// Message flags (`DRVXPC_F_*`).
public struct XPCFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let request = XPCFlags(rawValue: UInt16(DRVXPC_F_REQUEST))
    public static let reply = XPCFlags(rawValue: UInt16(DRVXPC_F_REPLY))
    public static let notify = XPCFlags(rawValue: UInt16(DRVXPC_F_NOTIFY))
    public static let reattach = XPCFlags(rawValue: UInt16(DRVXPC_F_REATTACH))
    /// An upcall made within the u-driver's own call in progress (a sliced
    /// driver's probe, or nested in one of its downcalls).
    public static let within = XPCFlags(rawValue: UInt16(DRVXPC_F_WITHIN))
    static let all = XPCFlags(rawValue: UInt16(DRVXPC_F_ALL))
}

/// Protocol-wide limits from drvxpc.h.
public enum XPCLimits {
    /// Largest message, header included.
    public static let messageMax = Int(DRVXPC_MSG_MAX)
    /// Header size.
    public static let headerSize = MemoryLayout<drvxpc_hdr>.size
    /// Deepest nesting.
    public static let nestMax = Int(DRVXPC_NEST_MAX)
    /// Protocol version spoken in HELLO.
    public static let version = UInt32(DRVXPC_VERSION)
    /// How long the nucleus may take to answer a downcall, unless its op
    /// says longer (``XPCOp/downcallDeadline``).
    public static let downcallDeadline: Duration = .milliseconds(Int(DRVXPC_DOWNCALL_MS))
    /// Longest step list in one REG_SEQ.
    public static let sequenceMaxOps = Int(DRVXPC_SEQ_MAX_OPS)
    /// Longest delay step.
    public static let delayMaxMicros = UInt32(DRVXPC_DELAY_MAX_US)
    /// A sequence's delay steps together: the data path waits for a
    /// sequence that holds the ComboLock.
    public static let sequenceMaxDelayMicros = UInt32(DRVXPC_SEQ_MAX_DELAY_US)
    /// Replies to downcalls, by CALL_ID, a nucleus keeps per device.
    public static let answersKept = Int(DRVXPC_ANSWERS_KEPT)
}

/// Faults a u-driver runtime injects on request (`enum drvxpc_fault`).
public enum XPCFault: UInt8, Sendable, CaseIterable {
    case crash = 1, abort, hang, slow, badParam, garbage
    /// Allocates until the address-space limit (MemoryMax=), then aborts.
    case memory
    /// `socket(AF_INET)`: a call outside the sandbox's allowlist.
    case syscall
    /// Creates processes in a loop (64 at most, so an unconfined u-driver
    /// cannot take the host down).
    case forkBomb
    /// Sends downcalls as fast as its socket takes them, without waiting.
    case flood
    /// Acknowledges the next setter without running it: a setting that
    /// never reached the chip, which only a read-back of the device sees.
    case lostWrite

    /// The spelling `drvctl inject` takes.
    public var name: String {
        switch self {
        case .crash: return "crash"
        case .abort: return "abort"
        case .hang: return "hang"
        case .slow: return "slow"
        case .badParam: return "bad-param"
        case .garbage: return "garbage"
        case .memory: return "memory"
        case .syscall: return "syscall"
        case .forkBomb: return "fork-bomb"
        case .flood: return "flood"
        case .lostWrite: return "lost-write"
        }
    }
    public init?(name: String) {
        guard let f = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = f
    }
}

/// What a PS/2 mouse speaks (`enum drvxpc_mouse_proto`, INPUT_PROTOCOL):
/// it fixes the packet size the nucleus assembles by.
public enum XPCMouseProtocol: UInt8, Sendable, CaseIterable {
    /// 3-byte packets: buttons, x, y.
    case ps2 = 1
    /// IntelliMouse: a wheel byte more.
    case imps = 2
    /// IntelliMouse Explorer: wheel and two more buttons in the fourth byte.
    case exps = 3

    /// Bytes in a packet.
    public var packetSize: Int { self == .ps2 ? 3 : 4 }
}
