// SPDX-License-Identifier: GPL-2.0
import XPC

/// The nucleus half of one chip, with its class's data path: what
/// drvnucleus's `struct drvnucleus_chip` and `struct drvnucleus_class` are
/// in the kernel. ``SimNucleus`` drives every device through this and
/// never names a class or a chip. Runs under the nucleus lock and never
/// waits for the u-driver.
protocol SimChipNucleus: AnyObject {
    /// The class announced in DEVICE_ADD.
    var deviceClass: XPCDeviceClass { get }
    /// One data-path pass after the model's tick, `nanos` of device time
    /// later: interrupts, frames.
    func step(memory: SimMemory, nanos: UInt64)
    /// Before the model's tick: the workload client's own pass.
    func clientTick()
    /// The class's downcalls (SND_REGISTER, NET_REGISTER, NET_CARRIER,
    /// DATAPATH_ENABLE/DISABLE…): the reply, or nil when `m.op` is not one.
    func downcall(_ m: XPCMessage, _ d: SimDevice, memory: SimMemory) throws -> XPCMessage?
    /// QUIESCE: the u-driver is gone for good; stop DMA, mask interrupts.
    func quiesce()
    /// DEVICE_READD: as QUIESCE, but the class's client is held, not
    /// dropped (the interface stays up with its queue stopped), for the
    /// fresh u-driver the daemon starts next.
    func holdForReadd()
    /// The class's and chip's DEVICE_INFO attributes.
    func info() -> [XPCAttribute]
    /// The standard workload's client for this device, run once its
    /// u-driver registered it: upcalls through the sim, outside the lock.
    var workload: SimWorkload { get }
    /// Upcalls the data path asked for since the last call, sent and not
    /// waited for once the nucleus lock is dropped (net.c's link check
    /// after a link-change interrupt).
    func takeUpcalls() -> [XPCOp]
    /// As ``takeUpcalls()``, for upcalls with attributes (USB_HC_ERROR's
    /// USBSTS); by default the ones ``takeUpcalls()`` gives, without.
    func takeAsyncUpcalls() -> [(XPCOp, [XPCAttribute])]
    /// A task of the nucleus's own for the device's life, started once the
    /// nucleus serves (usbcore's hub driver, which makes upcalls and waits
    /// for their answers); nil: none.
    var service: SimWorkload? { get }
    /// The interrupt handler, run inside the model's tick the moment the
    /// device raises its line (UHCI: at the frame after an IOC), as a
    /// kernel nucleus's handler runs: an URB is given back and re-armed
    /// before the next frame however long the sim's pass is.
    func interrupt(memory: SimMemory)
    /// Before a downcall's register write (module/drvnucleus.h's
    /// `write_check`): nil lets it happen, a refusal fails the downcall
    /// and the write does not reach the model.
    func checkWrite(_ w: RegisterWrite, memory: SimMemory) -> WriteRefusal?
    /// After a downcall's writes (a REG_WRITE, a whole REG_SEQ, refused or
    /// not), drvnucleus's `writes_done`: a state the chip may pass through
    /// inside one downcall but not be left in while the data path runs is
    /// put back, and the downcall refused.
    func writesDone() -> WriteRefusal?
    /// How long after running downcall `m` its answer goes out, as the
    /// kernel's would after the device's own time (a PS/2 mouse's
    /// self-test); nil: at once. Waited out off the sim's reader thread,
    /// as drvnucleus.ko waits under the device's lock, not everyone's.
    func answerDelay(_ m: XPCMessage) -> Duration?
}

/// Starts a device's workload (play audio, bring a link up…).
typealias SimWorkload = @Sendable (_ sim: SimNucleus, _ instance: UInt32) async throws -> Void

extension SimChipNucleus {
    func clientTick() {}
    func takeUpcalls() -> [XPCOp] { [] }
    func takeAsyncUpcalls() -> [(XPCOp, [XPCAttribute])] { takeUpcalls().map { ($0, []) } }
    var service: SimWorkload? { nil }
    func interrupt(memory: SimMemory) {}
    func holdForReadd() { quiesce() }
    func checkWrite(_ w: RegisterWrite, memory: SimMemory) -> WriteRefusal? { nil }
    func writesDone() -> WriteRefusal? { nil }
    func answerDelay(_ m: XPCMessage) -> Duration? { nil }
}

/// The chips the sim nucleus drives, one line each: a model it recognises
/// → that chip's nucleus (for a NIC: the net class, ``NetPath``, around the
/// chip's data path). A model no line takes is announced but has no data
/// path.
enum SimChips {
    static let all: [@Sendable (DeviceModel, UInt32) -> (any SimChipNucleus)?] = [
        { model, instance in (model as? ES137xModel).map { SoundPath(model: $0, instance: instance) } },
        { model, instance in (model as? RTL8139Model).map { NetPath(RTL8139Path(model: $0), instance: instance) } },
        { model, instance in (model as? E1000Model).map { NetPath(E1000Path(model: $0), instance: instance) } },
        { model, instance in (model as? PCNet32Model).map { NetPath(PCNet32Path(model: $0), instance: instance) } },
        { model, instance in (model as? NE2KModel).map { NetPath(NE2KPath(model: $0), instance: instance) } },
        { model, instance in (model as? PS2MouseModel).map { InputPath(model: $0, instance: instance) } },
        { model, instance in (model as? UHCIModel).map { USBHostPath(model: $0, instance: instance) } },
    ]

    /// The nucleus of `model`'s chip, if a line takes it.
    static func nucleus(for model: DeviceModel, instance: UInt32) -> (any SimChipNucleus)? {
        for make in all { if let n = make(model, instance) { return n } }
        return nil
    }
}
