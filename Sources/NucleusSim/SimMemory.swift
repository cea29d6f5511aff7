// SPDX-License-Identifier: GPL-2.0

/// Simulated host memory that devices reach by DMA, and the nucleus's object
/// tracker for it: every buffer is an object with a stable id, an owning
/// device instance and a role, so a restarted u-driver can be handed it.
///
/// Not thread-safe: used under ``SimNucleus``'s lock.
public final class SimMemory {
    /// One DMA buffer.
    public final class Buffer {
        public let id: UInt32
        public let instance: UInt32
        public let busAddress: UInt32
        public var role: UInt8
        public var bytes: [UInt8]
        init(id: UInt32, instance: UInt32, busAddress: UInt32, size: Int, role: UInt8) {
            self.id = id
            self.instance = instance
            self.busAddress = busAddress
            self.role = role
            self.bytes = [UInt8](repeating: 0, count: size)
        }
    }

    private var buffers: [UInt32: Buffer] = [:]
    private var nextID: UInt32 = 1
    private var nextBus: UInt32 = 0x1000_0000
    /// Bytes allocated, for limits and reports.
    public private(set) var allocatedBytes = 0
    /// Per-instance ceiling on DMA memory.
    public let limitPerInstance = 1 << 20

    public init() {}

    /// Allocates `size` bytes for `instance`; nil past the instance's limit.
    public func allocate(instance: UInt32, size: Int, role: UInt8) -> Buffer? {
        let used = buffers.values.filter { $0.instance == instance }.reduce(0) { $0 + $1.bytes.count }
        guard size > 0, used + size <= limitPerInstance else { return nil }
        let b = Buffer(id: nextID, instance: instance, busAddress: nextBus, size: size, role: role)
        nextID += 1
        nextBus += UInt32((size + 4095) & ~4095) + 4096 // a guard page between buffers
        buffers[b.id] = b
        allocatedBytes += size
        return b
    }

    /// The buffer `id` if `instance` owns it.
    public func buffer(_ id: UInt32, ownedBy instance: UInt32) -> Buffer? {
        guard let b = buffers[id], b.instance == instance else { return nil }
        return b
    }

    /// Frees `id` if `instance` owns it.
    @discardableResult
    public func free(_ id: UInt32, ownedBy instance: UInt32) -> Bool {
        guard let b = buffer(id, ownedBy: instance) else { return false }
        buffers.removeValue(forKey: id)
        allocatedBytes -= b.bytes.count
        return true
    }

    /// Every buffer `instance` owns, by id.
    public func buffers(of instance: UInt32) -> [Buffer] {
        buffers.values.filter { $0.instance == instance }.sorted { $0.id < $1.id }
    }

    /// The buffer `instance` owns with `role`, if any (the newest).
    public func buffer(of instance: UInt32, role: UInt8) -> Buffer? {
        buffers(of: instance).last { $0.role == role }
    }

    /// The bytes from bus address `bus` to the end of the buffer of
    /// `instance` that holds it; 0 if none does (drvnucleus_dma_room).
    public func room(bus: UInt32, instance: UInt32) -> Int {
        for b in buffers.values where b.instance == instance && bus >= b.busAddress
            && Int(bus - b.busAddress) < b.bytes.count {
            return b.bytes.count - Int(bus - b.busAddress)
        }
        return 0
    }

    /// The size of the largest buffer of `instance` with `role` (any role:
    /// nil); 0 if it has none (drvnucleus_obj_largest).
    public func largest(instance: UInt32, role: UInt8?) -> Int {
        buffers.values.filter { $0.instance == instance && (role == nil || $0.role == role) }
            .map(\.bytes.count).max() ?? 0
    }

    /// What a device sees at `bus`: the buffer and the offset in it.
    public func resolve(bus: UInt32) -> (Buffer, Int)? {
        for b in buffers.values where bus >= b.busAddress && Int(bus - b.busAddress) < b.bytes.count {
            return (b, Int(bus - b.busAddress))
        }
        return nil
    }

    /// Device-side DMA read; bytes outside any buffer read as zero (a
    /// master abort on real hardware).
    public func read(bus: UInt32, count: Int) -> [UInt8] {
        guard let (b, off) = resolve(bus: bus) else { return [UInt8](repeating: 0, count: count) }
        let n = min(count, b.bytes.count - off)
        return Array(b.bytes[off..<(off + n)]) + [UInt8](repeating: 0, count: count - n)
    }

    /// Device-side DMA write; returns false where no buffer is mapped.
    @discardableResult
    public func write(bus: UInt32, _ data: [UInt8]) -> Bool {
        guard let (b, off) = resolve(bus: bus), off + data.count <= b.bytes.count else { return false }
        b.bytes.replaceSubrange(off..<(off + data.count), with: data)
        return true
    }
}
