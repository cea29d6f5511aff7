// SPDX-License-Identifier: GPL-2.0
import Foundation
import Testing
@testable import SliceAnalysis

/// DriverSlicer's analysis on small C drivers with known answers.
@Suite struct SliceAnalysisTests {
    /// A network driver in miniature: an ops table, request_irq, NAPI, a
    /// work item set by assignment, helpers shared by both sides, and a
    /// function stored in a variable (no interface says what that is).
    static let netDriver = """
        struct sk_buff; struct net_device;
        struct net_device_ops {
            int (*ndo_open)(struct net_device *);
            int (*ndo_start_xmit)(struct sk_buff *, struct net_device *);
            void (*ndo_set_rx_mode)(struct net_device *);
        };
        struct napi_struct { int weight; };
        struct work_struct { void (*func)(struct work_struct *); };
        struct drv { struct work_struct reset; struct napi_struct napi; };
        int request_irq(unsigned irq, int (*handler)(int, void *), unsigned long flags, const char *name, void *dev);
        void netif_napi_add(struct net_device *dev, struct napi_struct *napi, int (*poll)(struct napi_struct *, int));
        void iowrite8(unsigned char v, void *addr);
        unsigned char ioread8(void *addr);
        static void *regs;
        static struct drv priv;
        static void ring_refill(void) { iowrite8(1, regs); }
        static int rx(int budget) { ring_refill(); return budget; }
        static int poll(struct napi_struct *n, int budget) { return rx(budget); }
        static int isr(int irq, void *dev) { (void)ioread8(regs); return 1; }
        static int xmit(struct sk_buff *skb, struct net_device *dev)
        {
            iowrite8(2, regs);
            return 0;
        }
        static void set_rx_mode(struct net_device *dev) { iowrite8(3, regs); }
        static unsigned short read_eeprom(int loc) { return ioread8(regs) + loc; }
        static void reset_task(struct work_struct *w) { ring_refill(); }
        static int open(struct net_device *dev)
        {
            read_eeprom(0);
            priv.reset.func = reset_task;
            netif_napi_add(dev, &priv.napi, poll);
            set_rx_mode(dev);
            return request_irq(5, isr, 0, "x", dev);
        }
        static void helper(void) {}
        static void (*saved)(void);
        static void stash(void) { saved = helper; }
        static const struct net_device_ops ops = {
            .ndo_open = open,
            .ndo_start_xmit = xmit,
            .ndo_set_rx_mode = set_rx_mode,
        };
        """

    static let interfaces = """
        # test interfaces
        field net_device_ops.ndo_start_xmit bandwidth
        field net_device_ops.ndo_set_rx_mode priority
        field net_device_ops.* user
        call request_irq 1 latency
        call netif_napi_add 2 latency
        field work_struct.func user
        """

    func write(_ text: String, _ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "slicer-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func table() throws -> InterfaceTable {
        var t = InterfaceTable()
        try t.add(Self.interfaces, file: "test.iface")
        return t
    }

    /// Found by Tests/fuzz/slicer_parse: "\r\n" ended no line, so a file
    /// with CRLF endings was one long, unparsable line.
    @Test func textFilesWithCRLFEndings() throws {
        var t = InterfaceTable()
        try t.add("opaque net_device\r\nfield pci_driver.probe latency\r\n", file: "crlf.iface")
        #expect(t.opaque == ["net_device"])
        #expect(t.fields["pci_driver.probe"] == .init(role: .latency, origin: "crlf.iface:2"))
        var a = AnnotationSet()
        try a.add("nullterm priv.name\r\narray priv.ring 64\r\n", file: "crlf.slice")
        #expect(a.all.map(\.origin) == ["crlf.slice:1", "crlf.slice:2"])
        #expect(a.all.last?.argument == "64")
        // "\r" separates words; a combining mark after ' ' or '#' does not glue them.
        var u = InterfaceTable()
        try u.add("opaque a\r\r\r\nopaque \u{301}b #\u{301} c\n", file: "u.iface")
        #expect(u.opaque == ["a", "\u{301}b"])
        // Found by Tests/fuzz/slicer_parse: split dropped the empty struct name.
        #expect { var t = InterfaceTable(); try t.add("field .a.b latency\n", file: "v.iface") } throws: { "\($0)".hasPrefix("v.iface:1: expected `field STRUCT.FIELD ROLE`") }
    }

    @Test func callGraphThroughOpsTablesRegistrationsAndAssignments() throws {
        let g = try CallGraph.build(files: [try write(Self.netDriver, "netdrv.c")], arguments: ["-std=gnu11"])
        #expect(Set(g.functions.keys) == ["ring_refill", "rx", "poll", "isr", "xmit", "set_rx_mode", "read_eeprom",
                                          "reset_task", "open", "helper", "stash"])
        #expect(g.calls["open"] == ["read_eeprom", "set_rx_mode"])
        #expect(g.kernelCalls["open"] == ["request_irq", "netif_napi_add"])
        #expect(g.calls["poll"] == ["rx"] && g.calls["rx"] == ["ring_refill"])
        #expect(g.functions["xmit"]?.lines == 5)
        func ctx(_ f: String) -> [ReferenceContext] { g.references.filter { $0.function == f }.map(\.context) }
        #expect(ctx("isr") == [.argument(function: "request_irq", index: 1)])
        #expect(ctx("poll") == [.argument(function: "netif_napi_add", index: 2)])
        #expect(ctx("reset_task") == [.field(structName: "work_struct", field: "func")])
        #expect(ctx("open") == [.field(structName: "net_device_ops", field: "ndo_open")])
        #expect(ctx("xmit") == [.field(structName: "net_device_ops", field: "ndo_start_xmit")])
        #expect(ctx("helper") == [.other("address taken in stash()")])
    }

    @Test func rootsExpandThroughTheirCallees() throws {
        let g = try CallGraph.build(files: [try write(Self.netDriver, "netdrv.c")], arguments: [])
        let s = Split(graph: g, interfaces: try table())
        #expect(Set(s.kernel.map(\.name)) == ["isr", "poll", "rx", "ring_refill", "xmit", "set_rx_mode"])
        #expect(Set(s.user.map(\.name)) == ["read_eeprom", "reset_task", "open", "helper", "stash"])
        #expect(Set(s.roots.map { "\($0.function) \($0.role.rawValue)" }) == ["isr latency", "poll latency", "xmit bandwidth", "set_rx_mode priority"])
        #expect(s.downcalls == [Split.Downcall(caller: "reset_task", callee: "ring_refill"), Split.Downcall(caller: "open", callee: "set_rx_mode")])
        #expect(s.upcalls.contains(Split.Upcall(function: "open", via: "net_device_ops.ndo_open", classified: true)))
        #expect(s.upcalls.contains(Split.Upcall(function: "reset_task", via: "work_struct.func", classified: true)))
        let unclassified = s.upcalls.filter { !$0.classified }
        #expect(unclassified.map(\.function) == ["helper"] && unclassified[0].via.contains("netdrv.c:"))
        #expect(s.kernelAPIFromUser["ioread8"] == 1 && s.kernelAPIFromUser["iowrite8"] == nil)
        #expect(s.userPercent > 30 && s.userPercent < 70)
        #expect(s.kernelLines + s.userLines == g.functions.values.reduce(0) { $0 + $1.lines })
    }

    /// e1000's NAPI poll calls `adapter->clean_rx(...)`: the driver fills
    /// that field itself, so the call reaches the functions stored there
    /// and they are part of the nucleus, not upcalls.
    @Test func callsThroughTheDriversOwnFieldsAreResolved() throws {
        let src = """
            struct napi_struct { int w; };
            struct adapter { int (*clean_rx)(struct adapter *, int); void (*unused)(void); };
            void netif_napi_add(void *dev, struct napi_struct *napi, int (*poll)(struct napi_struct *, int));
            static struct adapter a;
            static struct napi_struct n;
            static int clean_rx_small(struct adapter *ad, int budget) { return budget; }
            static int clean_rx_jumbo(struct adapter *ad, int budget) { return budget - 1; }
            static int poll(struct napi_struct *napi, int budget) { return a.clean_rx(&a, budget); }
            static void dispatch(int (*f)(void)) { f(); }
            static void configure(int mtu)
            {
                if (mtu > 1500) a.clean_rx = clean_rx_jumbo; else a.clean_rx = clean_rx_small;
                netif_napi_add(0, &n, poll);
            }
            """
        let g = try CallGraph.build(files: [try write(src, "fieldcall.c")], arguments: [])
        #expect(g.calls["poll"] == ["clean_rx_small", "clean_rx_jumbo"])
        #expect(g.indirectCalls["dispatch"] == 1, "a plain function pointer stays unresolved")
        let s = Split(graph: g, interfaces: try table())
        #expect(Set(s.kernel.map(\.name)) == ["poll", "clean_rx_small", "clean_rx_jumbo"])
        #expect(!s.upcalls.contains { $0.function.hasPrefix("clean_rx") }, "stored for the driver's own call, not an entry point")
    }

    /// The marshaling spec copies only the fields each entry point's side
    /// touches: reads in, writes out, `&x->f` passed on as a handle, an
    /// embedded struct on the way to a field as a path (not copied), the
    /// callees on the same side included, the other side's not.
    @Test func fieldSetsPerEntryPoint() throws {
        let src = """
            struct device { void *parent; char name[32]; };
            struct ring { int head, tail; int slots[64]; };
            struct priv { struct ring rx; int irq; unsigned flags; int lock; struct device *dev; long stats[8]; };
            struct net_device { struct device dev; struct priv *priv; int mtu; };
            struct net_device_ops { int (*ndo_open)(struct net_device *); int (*ndo_start_xmit)(struct net_device *); };
            struct _ddebug { int key; };
            void spin_lock(int *l);
            static struct _ddebug dbg;
            static void refill(struct priv *p) { p->rx.head = p->rx.tail; }
            static int xmit(struct net_device *d) { struct priv *p = d->priv; p->stats[0]++; refill(p); return 0; }
            static void setup(struct priv *p, struct net_device *d) { d->dev.parent = p->dev; }
            static int open(struct net_device *d)
            {
                struct priv *p = d->priv;
                spin_lock(&p->lock);
                p->flags |= 1;
                setup(p, d);
                refill(p);
                if (dbg.key) p->irq = d->mtu;
                return 0;
            }
            static const struct net_device_ops ops = { .ndo_open = open, .ndo_start_xmit = xmit };
            """
        var t = try table()
        try t.add("opaque _ddebug\n", file: "k.iface")
        let g = try CallGraph.build(files: [try write(src, "fields.c")], arguments: [])
        let split = Split(graph: g, interfaces: t)
        let spec = MarshalingSpec(graph: g, split: split, opaque: t.opaque)
        let open = try #require(spec.entries.first { $0.function == "open" })
        #expect(open.direction == .upcall && open.via == "net_device_ops.ndo_open")
        #expect(open.reads == ["net_device": ["mtu", "priv"], "priv": ["dev", "flags"]], "\(open.reads)")
        #expect(open.writes == ["device": ["parent"], "priv": ["flags", "irq"]], "\(open.writes)")
        #expect(open.handles == ["priv": ["lock"]])
        #expect(open.readBytes == 8 + 4 + 8 + 4 && open.writeBytes == 8 + 4 + 4 && open.handleBytes == 8)
        // refill is on the kernel side (xmit's callee): open reaches it as a downcall.
        let refill = try #require(spec.entries.first { $0.function == "refill" && $0.direction == .downcall })
        #expect(refill.reads == ["ring": ["tail"]] && refill.writes == ["ring": ["head"]])
        #expect(refill.via == "called by open")
        // Naive: everything reachable from the parameter, whole.
        #expect(open.naiveBytes == g.structSizes["net_device"]! + g.structSizes["priv"]! + g.structSizes["device"]!)
        #expect(open.naiveStructs == 3 && open.fieldMinimalBytes < open.naiveBytes)
        #expect(spec.bytes(for: ["open"])?.fieldMinimal == open.fieldMinimalBytes && spec.bytes(for: ["nope"]) == nil)
        #expect(spec.text.contains("upcall open  via net_device_ops.ndo_open"))
    }

    /// The kernel's drvdata accessors are opened: what the probe stores with
    /// pci_set_drvdata and the remove reads with pci_get_drvdata is
    /// `device.driver_data`, a field of the driver's like any, so it goes to
    /// the kernel with the probe and comes back to an adopting u-driver.
    /// Other inline helpers stay closed (their fields are the kernel's), and
    /// the accessors' own callees are not the driver's kernel calls.
    @Test func theDrvdataAccessorsFieldCrosses() throws {
        // The kernel's headers, as the driver includes them.
        let header = """
            struct device { void *driver_data; void *parent; int busy; };
            struct pci_dev { struct device dev; int irq; };
            struct net_device { int mtu; };
            struct pci_driver { int (*probe)(struct pci_dev *); void (*remove)(struct pci_dev *); };
            static inline void dev_set_drvdata(struct device *dev, void *data) { dev->driver_data = data; }
            static inline void *dev_get_drvdata(const struct device *dev) { return dev->driver_data; }
            static inline void pci_set_drvdata(struct pci_dev *pdev, void *data) { dev_set_drvdata(&pdev->dev, data); }
            static inline void *pci_get_drvdata(struct pci_dev *pdev) { return dev_get_drvdata(&pdev->dev); }
            static inline int device_busy(struct device *dev) { return dev->busy; }
            struct net_device *alloc_netdev(void);
            """
        let src = """
            #include "kernel.h"
            static struct net_device one;
            static int probe(struct pci_dev *pdev)
            {
                struct net_device *d = alloc_netdev();
                if (!d) d = &one;
                pci_set_drvdata(pdev, d);
                return device_busy(&pdev->dev);
            }
            static void remove(struct pci_dev *pdev)
            {
                struct net_device *d = pci_get_drvdata(pdev);
                d->mtu = 0;
            }
            static const struct pci_driver drv = { .probe = probe, .remove = remove };
            """
        var t = InterfaceTable()
        try t.add("field pci_driver.* user\n", file: "p.iface")
        let path = try write(src, "drvdata.c")
        let dir = (path as NSString).deletingLastPathComponent
        try header.write(toFile: dir + "/kernel.h", atomically: true, encoding: .utf8)
        let g = try CallGraph.build(files: [path], arguments: ["-I", dir])
        #expect(g.fieldWrites["probe"]?.contains("device.driver_data") == true, "\(g.fieldWrites)")
        #expect(g.fieldReads["remove"]?.contains("device.driver_data") == true, "\(g.fieldReads)")
        #expect(g.fieldReads["probe"]?.contains("device.busy") != true, "\(g.fieldReads)")
        #expect(g.kernelCalls["probe"] == ["alloc_netdev", "pci_set_drvdata", "device_busy"], "\(g.kernelCalls)")
        #expect(g.kernelCalls["remove"] == ["pci_get_drvdata"], "\(g.kernelCalls)")
        #expect(g.fieldDecls["device.driver_data"]?.swiftType == "UInt64")
        let spec = MarshalingSpec(graph: g, split: Split(graph: g, interfaces: t))
        let probe = try #require(spec.entries.first { $0.function == "probe" })
        let remove = try #require(spec.entries.first { $0.function == "remove" })
        #expect(probe.writes["device"] == ["driver_data"], "\(probe.writes)")
        #expect(remove.reads["device"] == ["driver_data"], "\(remove.reads)")
        // remove keeps pci_get_drvdata's result as a net_device: the void *
        // needs no annotation.
        #expect(!spec.needs.contains { $0.field == "device.driver_data" }, "\(spec.needs)")
    }

    /// A struct of the driver's handed on to the kernel API by address
    /// (&p->mii to mii_check_media): the API's code may read and write any
    /// of it, and when it runs in the u-driver (the driver library's MII
    /// code) it sees only what crossed. Every field of it the driver uses
    /// anywhere (here: set in probe) crosses both ways with the entry that
    /// hands it on; a struct the driver never looks into (the lock) stays
    /// a handle.
    @Test func aStructHandedToTheKernelAPICrossesWhole() throws {
        let src = """
            struct net_device;
            struct mii { struct net_device *dev; int phy_id; int full_duplex; int unused; };
            struct lockword { int v; };
            struct priv { struct mii mii; struct lockword lock; int irq; };
            struct net_device { struct priv *priv; };
            struct net_device_ops { int (*ndo_open)(struct net_device *); int (*ndo_stop)(struct net_device *); };
            int mii_check_media(struct mii *m, int print, int init);
            void spin_lock(struct lockword *l);
            static int open(struct net_device *d)
            {
                struct priv *p = d->priv;
                spin_lock(&p->lock);
                return mii_check_media(&p->mii, 1, 1) + p->irq;
            }
            static int stop(struct net_device *d)
            {
                struct priv *p = d->priv;
                p->mii.dev = d;
                p->mii.phy_id = 1;
                if (p->mii.full_duplex) p->irq = 0;
                return 0;
            }
            static const struct net_device_ops ops = { .ndo_open = open, .ndo_stop = stop };
            """
        let g = try CallGraph.build(files: [try write(src, "handed.c")], arguments: [])
        let spec = MarshalingSpec(graph: g, split: Split(graph: g, interfaces: try table()))
        let open = try #require(spec.entries.first { $0.function == "open" })
        #expect(open.reads["mii"] == ["dev", "full_duplex", "phy_id"], "\(open.reads)")
        #expect(open.writes["mii"] == ["dev", "full_duplex", "phy_id"], "\(open.writes)")
        #expect(open.handles["priv"] == ["lock", "mii"], "\(open.handles)")
        #expect(open.reads["lockword"] == nil && open.writes["lockword"] == nil)
    }

    /// A driver whose crossing fields need annotations: the tool names
    /// each with the annotation to add; a side file or a source attribute
    /// answers it and changes what crosses.
    @Test func annotationsNeededGivenAndApplied() throws {
        let src = """
            struct spinlock { int raw; };
            struct desc { unsigned addr, len; };
            struct priv {
                struct spinlock lock;
                void *regs;
                char *fw_name;
                struct desc *ring;
                unsigned char *mac __attribute__((annotate("drvslice:array(6)")));
                int cur;
            };
            struct net_device_ops { int (*ndo_open)(struct priv *); int (*ndo_start_xmit)(struct priv *); };
            void spin_lock(struct spinlock *l);
            int load(const char *name);
            static int xmit(struct priv *p) { spin_lock(&p->lock); p->ring[p->cur].len = 1; return 0; }
            static int open(struct priv *p)
            {
                spin_lock(&p->lock);
                p->ring[0].addr = 0;
                p->mac[0] = 2;
                return load(p->fw_name) + (p->regs != 0);
            }
            static const struct net_device_ops ops = { .ndo_open = open, .ndo_start_xmit = xmit };
            """
        let g = try CallGraph.build(files: [try write(src, "ann.c")], arguments: [])
        #expect(g.sourceAnnotations.map { "\($0.kind.rawValue) \($0.field) \($0.argument ?? "")" } == ["array priv.mac 6"])
        #expect(g.sourceAnnotations.first?.origin.contains("ann.c:8") == true)
        #expect(g.indexedFields == ["priv.ring", "priv.mac"] && g.fieldKinds["priv.lock"] == .lock)
        let split = Split(graph: g, interfaces: try table())
        let bare = MarshalingSpec(graph: g, split: split)
        #expect(Set(bare.needs.map { "\($0.kinds.map(\.rawValue).joined(separator: "|")) \($0.field)" }) == [
            "combolock priv.lock", "opaque|container priv.regs", "nullterm|array|opaque priv.fw_name", "array|sentinel priv.ring"])
        #expect(bare.needs.first { $0.field == "priv.lock" }?.reason == "taken by xmit in the nucleus and open in the u-driver")
        let open0 = try #require(bare.entries.first { $0.function == "open" })
        #expect(open0.notes == ["array priv.mac(6): 6 B each way it crosses"])

        var side = AnnotationSet()
        try side.add("""
            # answers
            combolock priv.lock
            opaque priv.regs
            nullterm priv.fw_name
            array priv.ring 16
            """, file: "ann.slice")
        let spec = MarshalingSpec(graph: g, split: split, annotations: side)
        #expect(spec.needs.isEmpty)
        let open = try #require(spec.entries.first { $0.function == "open" })
        #expect(open.handles["priv"] == ["regs"], "opaque: a handle")
        #expect(!(open.handles["priv"] ?? []).contains("lock") && !(open.reads["priv"] ?? []).contains("lock"), "combolock: not copied")
        #expect(open.readBytes == open0.readBytes - 8 + 16 * 8, "regs leaves the copy; the ring's 16 descriptors join it")

        #expect { var a = AnnotationSet(); try a.add("array priv.ring\n", file: "x.slice") } throws: { "\($0)" == "x.slice:1: array needs an argument (the length)" }
        #expect { var a = AnnotationSet(); try a.add("fuzzy priv.ring\n", file: "y.slice") } throws: { "\($0)".hasPrefix("y.slice:1: unknown annotation fuzzy") }
        #expect { var a = AnnotationSet(); try a.add("opaque ring\n", file: "z.slice") } throws: { "\($0)".hasPrefix("z.slice:1: expected `opaque STRUCT.FIELD") }
        // Found by Tests/fuzz/slicer_parse: an empty struct name got through.
        #expect { var a = AnnotationSet(); try a.add("nullterm .name.x\n", file: "w.slice") } throws: { "\($0)".hasPrefix("w.slice:1: expected `nullterm STRUCT.FIELD") }
        let bad = try write("struct s { int *p __attribute__((annotate(\"drvslice:fuzzy\"))); };\n", "badann.c")
        #expect { try CallGraph.build(files: [bad], arguments: []) } throws: { "\($0)".contains("badann.c:1: unknown annotation fuzzy") }
    }

    /// "The driver is the specification": the Swift types hold the fields
    /// the entry points use; a field the C driver starts using appears in
    /// them when the tool runs again, and the generated file compiles.
    @Test func swiftTypesFollowTheDriver() throws {
        func driver(_ extra: String) -> String {
            """
            struct priv { unsigned int cur_rx; short tx_free; unsigned char mac[6]; void *regs; char *fw; long unused; int in_use; };
            struct net_device_ops { int (*ndo_open)(struct priv *); };
            static int open(struct priv *p) { p->cur_rx = 0; p->tx_free = 4; p->mac[0] = 2; \(extra) return p->fw != 0; }
            static const struct net_device_ops ops = { .ndo_open = open };
            """
        }
        func types(_ src: String, _ name: String) throws -> SwiftTypes {
            let g = try CallGraph.build(files: [try write(src, name)], arguments: [])
            var ann = AnnotationSet()
            try ann.add("nullterm priv.fw\n", file: "drv.slice")
            let spec = MarshalingSpec(graph: g, split: Split(graph: g, interfaces: try table()), annotations: ann)
            return SwiftTypes(graph: g, spec: spec, source: name, annotations: ann)
        }
        let v1 = try types(driver(""), "v1.c")
        let priv1 = try #require(v1.types.first { $0.cName == "priv" })
        #expect(priv1.swiftName == "Priv")
        #expect(priv1.fields.map { "\($0.swift): \($0.decl.swiftType)" } == ["curRx: UInt32", "fw: String", "mac: [UInt8]", "txFree: Int16"])
        let v2 = try types(driver("p->in_use = 1;"), "v2.c")
        #expect(try #require(v2.types.first { $0.cName == "priv" }).fields.map(\.swift) == ["curRx", "fw", "inUse", "mac", "txFree"])
        #expect(!v2.text.contains("unused"), "a field nobody uses is not generated")
        #expect(v2.text.contains("public var inUse: Int32 = 0"))
        // It compiles.
        let file = try write(v2.text, "Priv.swift")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["swiftc", "-typecheck", file]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(SwiftTypes.property("default") == "`default`" && SwiftTypes.typeName("anon@8139too_c:232") == "Anon8139tooC232")
    }

    /// The generated marshaling, end to end: the C encoder (kernel side,
    /// compiled with gcc against the driver) sends open's call, the Swift
    /// decoder (u-driver side, compiled with swiftc) reads it, changes what
    /// open writes and sends the return, the C decoder stores it. Malformed
    /// input is refused by both, naming the field, without a trap.
    @Test func generatedMarshalingRoundTripsBetweenCAndSwift() throws {
        let driver = """
            struct spinlock { int raw; };
            struct priv { unsigned int cur_rx; short tx_free; unsigned char mac[6]; void *regs; char *fw; long unused; int in_use;
                          struct spinlock lock; unsigned flag:3; };
            struct net_device { struct priv *priv; int mtu; char name[16]; };
            struct net_device_ops { int (*ndo_open)(struct net_device *); int (*ndo_start_xmit)(struct net_device *); };
            void spin_lock(struct spinlock *l);
            static void refill(struct priv *p) { p->cur_rx += 4; }
            static int xmit(struct net_device *d) { refill(d->priv); return 0; }
            static int open(struct net_device *d)
            {
                struct priv *p = d->priv;
                spin_lock(&p->lock);
                p->cur_rx = 0; p->tx_free = p->tx_free - 1; p->mac[0] = 2; p->in_use = d->mtu; p->flag = 5;
                refill(p);
                return p->fw != 0 && d->name[0];
            }
            static const struct net_device_ops ops = { .ndo_open = open, .ndo_start_xmit = xmit };
            """
        let path = try write(driver, "drv.c")
        let dir = (path as NSString).deletingLastPathComponent
        let g = try CallGraph.build(files: [path], arguments: [])
        var ann = AnnotationSet()
        try ann.add("nullterm priv.fw\n", file: "drv.slice")
        let spec = MarshalingSpec(graph: g, split: Split(graph: g, interfaces: try table()), annotations: ann)
        let types = SwiftTypes(graph: g, spec: spec, source: "drv.c", annotations: ann)
        let code = MarshalingCode(graph: g, spec: spec, types: types, driverPath: path, source: "drv.c")
        try code.c.write(toFile: dir + "/slice_drv.c", atomically: true, encoding: .utf8)
        try code.swift.write(toFile: dir + "/DrvSlice.swift", atomically: true, encoding: .utf8)

        try """
            #include "slice_drv.c"
            #include <stdio.h>
            #include <stdlib.h>
            void spin_lock(struct spinlock *l) { (void)l; }
            int main(int argc, char **argv)
            {
            	static unsigned char buf[8192];
            	struct slice_buf b = { buf, 0, sizeof(buf) };
            	struct priv p = { .cur_rx = 7, .tx_free = -3, .mac = {1, 2, 3, 4, 5, 6}, .fw = "rtl-fw", .in_use = 9, .flag = 5 };
            	struct net_device d = { .priv = &p, .mtu = 1500, .name = "eth7" };
            	struct slice_objs o = { .net_device = &d, .priv = &p };
            	FILE *f;
            	size_t n;
            	int r;

            	if (argc == 3 && argv[1][0] == 'e') {
            		if (slice_open_put_call(&b, &o))
            			return 1;
            		f = fopen(argv[2], "wb");
            		fwrite(buf, 1, b.len, f);
            		fclose(f);
            		return 0;
            	}
            	f = fopen(argv[2], "rb");
            	n = fread(buf, 1, sizeof(buf), f);
            	fclose(f);
            	if (argv[1][0] == 't')	/* truncated: refused, nothing stored */
            		n -= 3;
            	r = slice_open_get_return(buf, (unsigned int)n, &o);
            	printf("r=%d cur_rx=%u tx_free=%d mac5=%u in_use=%d flag=%u fw=%s\\n", r, p.cur_rx, p.tx_free, p.mac[5], p.in_use,
            	       p.flag, p.fw);
            	return 0;
            }
            """.write(toFile: dir + "/cmain.c", atomically: true, encoding: .utf8)
        try """
            import Foundation
            let a = CommandLine.arguments
            var bytes = [UInt8](FileManager.default.contents(atPath: a[2]) ?? Data())
            var objs = SliceObjects(netDevice: NetDevice(), priv: Priv())
            if a[1] == "reply" {
                try OpenSlice.decodeCall(bytes, into: &objs)
                guard var q = objs.priv, let e = objs.netDevice else { exit(2) }
                print("mtu=\\(e.mtu) name=\\(String(decoding: e.name.prefix { $0 != 0 }, as: UTF8.self)) cur_rx=\\(q.curRx) tx_free=\\(q.txFree) mac=\\(q.mac) in_use=\\(q.inUse) flag=\\(q.flag) fw=\\(q.fw) lock=\\(q.lockAddress != 0)")
                q.curRx = 11; q.txFree = -4; q.mac[5] = 0xee; q.inUse = e.mtu; q.flag = 2; q.fw = "changed"
                try Data(OpenSlice.encodeReturn(SliceObjects(priv: q))).write(to: URL(fileURLWithPath: a[3]))
            } else {
                // Malformed: a value one byte short, a member the call does not carry, garbage.
                for damage in ["short", "member", "garbage"] {
                    var b = bytes
                    switch damage {
                    case "short": if let i = b.lastIndex(of: 0x0c) { b.remove(at: i) } // (not found: stays valid, reported)
                    case "member": b = OpenSlice.encodeReturn(SliceObjects(netDevice: objs.netDevice, priv: Priv()))
                    default: b = Array(b.prefix(7)) + [0xff, 0xff]
                    }
                    do { try OpenSlice.decodeCall(b, into: &objs); print("\\(damage): accepted") }
                    catch { print("\\(damage): \\(error)") }
                }
                // A one-byte value for each of priv's members in turn: the first
                // fixed-size one is refused by name.
                for id in (OpenSlice.callMembers[Priv.sliceStructID] ?? []).sorted() {
                    var s: [UInt8] = [], f: [UInt8] = [], m: [UInt8] = []
                    SliceWire.put(&s, SliceWire.structID, SliceWire.le(UInt64(Priv.sliceStructID), 2))
                    SliceWire.put(&f, SliceWire.fieldID, SliceWire.le(UInt64(id), 2))
                    SliceWire.put(&f, SliceWire.fieldValue, [7])
                    SliceWire.nest(&s, SliceWire.field, f)
                    SliceWire.nest(&m, SliceWire.structAttr, s)
                    do { try OpenSlice.decodeCall(m, into: &objs) } catch { print("size: \\(error)"); break }
                }
            }
            """.write(toFile: dir + "/main.swift", atomically: true, encoding: .utf8)
        func run(_ args: [String]) throws -> (Int32, String) { try SliceHalvesTests.run(args, in: dir) }
        let uapi = #filePath.components(separatedBy: "/Tests/")[0] + "/module/include/uapi"
        let gcc = try run(["gcc", "-Wall", "-Wextra", "-Werror", "-I", uapi, "-o", "cside", "cmain.c"])
        #expect(gcc.0 == 0, "\(gcc.1)")
        let swiftc = try run(["swiftc", "-o", "swiftside", "DrvSlice.swift", "main.swift"])
        #expect(swiftc.0 == 0, "\(swiftc.1)")
        guard gcc.0 == 0, swiftc.0 == 0 else { return }

        #expect(try run(["./cside", "encode", "call.bin"]).0 == 0)
        let reply = try run(["./swiftside", "reply", "call.bin", "return.bin"])
        // Field-minimal: open only writes cur_rx, in_use and flag, so they are not in its call.
        #expect(reply.1 == "mtu=1500 name=eth7 cur_rx=0 tx_free=-3 mac=[1, 2, 3, 4, 5, 6] in_use=0 flag=0 fw=rtl-fw lock=true\n",
                "\(reply.1)")
        // Only what open writes comes back: fw is read-only (a string), so the C side keeps its own.
        #expect(try run(["./cside", "decode", "return.bin"]).1 == "r=0 cur_rx=11 tx_free=-4 mac5=238 in_use=1500 flag=2 fw=rtl-fw\n")
        #expect(try run(["./cside", "truncated", "return.bin"]).1 == "r=-22 cur_rx=7 tx_free=-3 mac5=6 in_use=9 flag=5 fw=rtl-fw\n",
                "a message that fails stores nothing")
        let bad = try run(["./swiftside", "malformed", "call.bin"])
        #expect(bad.0 == 0, "no trap: \(bad.1)")
        #expect(bad.1.contains("member: malformed: member") && bad.1.contains("garbage: malformed:"), "\(bad.1)")
        #expect(bad.1.contains("size: priv.") && bad.1.contains(": 1 bytes, expected"), "\(bad.1)")
    }

    /// A driver whose entry points all reach the same structs (mlx5_core's
    /// 616 reach 58 of its 1,031 on average): each struct's encoder and
    /// decoder are emitted once and shared, and equal member sets once, so
    /// an entry point adds a few lines of its own, not a copy of every
    /// struct's code (mlx5_core's generated Swift was 71.7 MB, its C 35 MB).
    @Test func generatedCodeSharesEachStructsCodecBetweenEntryPoints() throws {
        let n = 12
        func code(entries k: Int) throws -> (MarshalingCode, String) {
            let structs = (0..<n).map { "struct s\($0) { int a, b, c; unsigned long d; };" }.joined(separator: "\n")
            let fields = (0..<n).map { "struct s\($0) *p\($0);" }.joined(separator: " ")
            let touch = (0..<n).map { "d->p\($0)->a = d->p\($0)->b + d->p\($0)->c; d->p\($0)->d++;" }.joined(separator: " ")
            let slots = (0..<k).map { "int (*ndo_op\($0))(struct net_device *);" }.joined(separator: " ")
            let fns = (0..<k).map { "static int op\($0)(struct net_device *d) { touch(d); return \($0); }" }.joined(separator: "\n")
            let ops = (0..<k).map { ".ndo_op\($0) = op\($0)," }.joined(separator: " ")
            let path = try write("""
                \(structs)
                struct net_device { \(fields) };
                struct net_device_ops { \(slots) };
                static void touch(struct net_device *d) { \(touch) }
                \(fns)
                static const struct net_device_ops ops = { \(ops) };
                """, "wide\(k).c")
            let g = try CallGraph.build(files: [path], arguments: [])
            let spec = MarshalingSpec(graph: g, split: Split(graph: g, interfaces: try table()))
            #expect(spec.entries.count == k)
            let types = SwiftTypes(graph: g, spec: spec, source: "wide\(k).c")
            return (MarshalingCode(graph: g, spec: spec, types: types, driverPath: path, source: "wide\(k).c"), path)
        }
        let (few, _) = try code(entries: 2)
        let (many, path) = try code(entries: 42)
        func count(_ s: String, _ of: String) -> Int { s.components(separatedBy: of).count - 1 }
        // Every struct's codec once, in each language.
        #expect(count(many.swift, ": SliceStruct {") == n + 1 && count(many.c, "_members[] = {") == n + 1)
        #expect(count(many.swift, "SliceWire.encode(") == count(few.swift, "SliceWire.encode("))
        // The 42 equal member sets once: the other entries name the first's.
        #expect(count(many.swift, "public static let callMembers: [UInt16: Set<UInt16>] = [") == 1)
        #expect(count(many.swift, "public static let callMembers: [UInt16: Set<UInt16>] = Op0Slice.callMembers") == 41)
        #expect(count(many.c, "static const __u16 slice_ids_") == count(few.c, "static const __u16 slice_ids_"))
        #expect(count(many.c, "static const struct slice_set ") == 2, "op0's call and return")
        // What one more entry point costs: its own few lines (copies of the
        // 13 structs' encoders and decoders were 13 kB of Swift and 4 kB of C).
        let swiftPerEntry = (many.swift.utf8.count - few.swift.utf8.count) / 40
        let cPerEntry = (many.c.utf8.count - few.c.utf8.count) / 40
        #expect(swiftPerEntry < 2_000 && cPerEntry < 1_200, "\(swiftPerEntry) B of Swift and \(cPerEntry) B of C per entry")
        // And it still builds: the C with gcc, the Swift with swiftc.
        let dir = (path as NSString).deletingLastPathComponent
        try many.c.write(toFile: dir + "/slice_wide.c", atomically: true, encoding: .utf8)
        try many.swift.write(toFile: dir + "/WideSlice.swift", atomically: true, encoding: .utf8)
        let uapi = #filePath.components(separatedBy: "/Tests/")[0] + "/module/include/uapi"
        let gcc = try SliceHalvesTests.run(["gcc", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I", uapi, "slice_wide.c"], in: dir)
        #expect(gcc.0 == 0, "\(gcc.1)")
        let swiftc = try SliceHalvesTests.run(["swiftc", "-typecheck", "-warnings-as-errors", "WideSlice.swift"], in: dir)
        #expect(swiftc.0 == 0, "\(swiftc.1)")
    }

    /// The other three annotations: sentinel (a length known at run time),
    /// storefield (kept where it was stored: not copied back), container
    /// (the struct is reached through another): each changes the spec or
    /// is noted there, and each answers the need it is for.
    @Test func sentinelStorefieldAndContainer() throws {
        let src = """
            struct id { unsigned vendor; };
            struct priv { struct id *ids; void *owner; unsigned cookie; int state; };
            struct net_device_ops { int (*ndo_open)(struct priv *); };
            static int open(struct priv *p)
            {
                p->cookie = 7; p->state = p->ids[0].vendor;
                return p->owner != 0;
            }
            static const struct net_device_ops ops = { .ndo_open = open };
            """
        let g = try CallGraph.build(files: [try write(src, "more.c")], arguments: [])
        let split = Split(graph: g, interfaces: try table())
        let bare = MarshalingSpec(graph: g, split: split)
        #expect(Set(bare.needs.map(\.field)) == ["priv.ids", "priv.owner"])
        var ann = AnnotationSet()
        try ann.add("sentinel priv.ids 0\nstorefield priv.cookie\ncontainer priv.owner net_device\n", file: "more.slice")
        let spec = MarshalingSpec(graph: g, split: split, annotations: ann)
        #expect(spec.needs.isEmpty)
        let open = try #require(spec.entries.first { $0.function == "open" })
        let open0 = try #require(bare.entries.first { $0.function == "open" })
        #expect(open0.writes["priv"] == ["cookie", "state"] && open.writes["priv"] == ["state"], "storefield: not copied back")
        #expect(open.writeBytes == open0.writeBytes - 4)
        #expect(Set(open.notes) == ["sentinel priv.ids: length known at run time",
                                    "storefield priv.cookie: kept where it was stored, not copied back",
                                    "container priv.owner: reached through net_device"], "\(open.notes)")
    }

    @Test func aFileThatDoesNotParseIsNamedWithItsLine() throws {
        let bad = try write("int ok(void) { return 0; }\nint broken(void) { return 1 +; }\n", "bad.c")
        #expect { try CallGraph.build(files: [bad], arguments: []) } throws: { e in
            "\(e)".contains("bad.c:2:") && "\(e)".contains("error")
        }
        let missing = try write("#include \"no-such-header.h\"\nint f(void) { return 0; }\n", "missing.c")
        #expect { try CallGraph.build(files: [missing], arguments: []) } throws: { e in
            "\(e)".contains("missing.c:1:") && "\(e)".contains("no-such-header.h")
        }
        #expect { try CallGraph.build(files: ["/nonexistent/drv.c"], arguments: []) } throws: { e in
            "\(e)" == "/nonexistent/drv.c: no such file"
        }
    }

    @Test func interfaceFilesAreCheckedLineByLine() throws {
        var t = InterfaceTable()
        #expect { try t.add("field a.b user\nfield x.y fast\n", file: "bad.iface") } throws: { "\($0)".hasPrefix("bad.iface:2: unknown role fast") }
        #expect { try t.add("call request_irq one latency\n", file: "c.iface") } throws: { "\($0)".hasPrefix("c.iface:1: expected `call") }
        #expect { try t.add("struct foo\n", file: "d.iface") } throws: { "\($0)".hasPrefix("d.iface:1: unknown directive struct") }
        let dir = #filePath.components(separatedBy: "/Tests/")[0] + "/slicer/interfaces"
        #expect { try InterfaceTable(directory: dir, only: ["netdevice", "no-such-interface"]) } throws: {
            "\($0)".hasPrefix("unknown interface no-such-interface")
        }
        // The shipped interface files all parse, and say what the paper's roots are.
        let all = try InterfaceTable(directory: dir)
        #expect(all.rule(for: .field(structName: "net_device_ops", field: "ndo_start_xmit"))?.role == .bandwidth)
        #expect(all.rule(for: .field(structName: "net_device_ops", field: "ndo_open"))?.role == .user)
        #expect(all.rule(for: .argument(function: "request_irq", index: 1))?.role == .latency)
        #expect(all.rule(for: .field(structName: "snd_pcm_ops", field: "pointer"))?.role == .bandwidth)
        #expect(all.rule(for: .field(structName: "ethtool_ops", field: "get_drvinfo"))?.role == .user)
        #expect(all.rule(for: .other("x")) == nil)
    }

    @Test func kbuildCommandLinesGiveTheParserFlags() throws {
        let cmd = try write("""
            cmd_/m/8139too.o :=  gcc-12 -Wp,-MMD,/m/.8139too.o.d -nostdinc -I/common/arch/x86/include -I./arch/x86/include/generated \
            -include /common/include/linux/kconfig.h -D__KERNEL__ -fno-PIE -mcmodel=kernel -std=gnu11 \
            -DKBUILD_MODNAME='"8139too"' -DKBUILD_BASENAME='"8139too"' -c -o /m/8139too.o /m/8139too.c   ; ./tools/objtool/objtool --x

            source_/m/8139too.o := /m/8139too.c
            """, ".8139too.o.cmd")
        let f = try KbuildCommand.flags(cmdFile: cmd, buildDirectory: "/usr/src/kbuild")
        #expect(f == ["-nostdinc", "-I/common/arch/x86/include", "-I/usr/src/kbuild/./arch/x86/include/generated",
                      "-include", "/common/include/linux/kconfig.h", "-D__KERNEL__", "-std=gnu11",
                      "-DKBUILD_MODNAME=\"8139too\"", "-DKBUILD_BASENAME=\"8139too\""])
        // The user half's flags: the same, the codegen options that keep the
        // meaning, none of the kernel's code model.
        let cmd2 = try write("""
            cmd_/m/8139cp.o := gcc-12 -nostdinc -I/common/include -D__KERNEL__ -fshort-wchar -fno-PIE -mno-sse -mno-red-zone \
            -mcmodel=kernel -mindirect-branch=thunk-extern -mfunction-return=thunk-extern -O2 -fstack-protector-strong \
            -ftrivial-auto-var-init=zero -pg -mfentry -DCC_USING_FENTRY -c -o /m/8139cp.o /m/8139cp.c
            """, ".8139cp.o.cmd")
        #expect(try KbuildCommand.userSpaceFlags(cmdFile: cmd2, buildDirectory: "/k") == [
            "-nostdinc", "-I/common/include", "-D__KERNEL__", "-fshort-wchar", "-mno-sse", "-O2",
            "-ftrivial-auto-var-init=zero", "-fPIC", "-fno-stack-protector"])
        let bad = try write("cmd_x := gcc -c 'unterminated\n", ".x.o.cmd")
        #expect { try KbuildCommand.flags(cmdFile: bad, buildDirectory: "/") } throws: { "\($0)".contains(".x.o.cmd:1: unterminated quote") }
    }
}
