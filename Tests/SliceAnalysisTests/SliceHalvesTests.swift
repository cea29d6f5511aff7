// SPDX-License-Identifier: GPL-2.0
import Foundation
import Testing
@testable import SliceAnalysis

/// driverslicer --halves on the miniature network driver: each half keeps
/// its own functions as written and reaches the other's through stubs; the
/// two halves, compiled apart (each with its own copy of the driver's
/// globals, as in two address spaces) and joined by a runtime that calls
/// across by id, behave as the driver did.
@Suite struct SliceHalvesTests {
    let fixture = SliceAnalysisTests()

    func halves() throws -> (SliceHalves, String) {
        let path = try fixture.write(SliceAnalysisTests.netDriver, "netdrv.c")
        let g = try CallGraph.build(files: [path], arguments: ["-std=gnu11"])
        let split = Split(graph: g, interfaces: try fixture.table())
        return (try SliceHalves(driver: "netdrv", split: split, graph: g), (path as NSString).deletingLastPathComponent)
    }

    @Test func eachHalfKeepsItsOwnBodiesAndStubsTheOthersItReaches() throws {
        let (h, _) = try halves()
        // Down: nucleus functions the user half calls (set_rx_mode from open,
        // ring_refill from reset_task) or names (isr, poll, xmit); up: the
        // u-driver functions the kernel can hold (open, reset_task, helper).
        #expect(h.entries.filter { !$0.up }.map(\.function) == ["isr", "poll", "ring_refill", "set_rx_mode", "xmit"])
        #expect(h.entries.filter(\.up).map(\.function) == ["helper", "open", "reset_task"])
        #expect(h.entries.map(\.id) == Array(1...8))
        let f = try #require(h.files.first)
        #expect(h.files.count == 1 && f.name == "netdrv.c")
        // The kernel half: open is a stub, read_eeprom (reached only from open) is gone, isr is as written.
        #expect(f.kernel.contains("static int open(struct net_device *dev)\n{\n\tstatic const struct drvslice_arg"))
        #expect(f.kernel.contains("drvslice_upcall(&slice_entry"))
        #expect(!f.kernel.contains("return ioread8(regs) + loc;") && f.kernel.contains("/* read_eeprom: in the u-driver"))
        #expect(f.kernel.contains("static int isr(int irq, void *dev) { (void)ioread8(regs); return 1; }"))
        // The user half: the reverse; rx (reached only from poll) is gone.
        #expect(f.user.contains("return ioread8(regs) + loc;"))
        #expect(f.user.contains("/* rx: in the nucleus") && !f.user.contains("return budget;"))
        #expect(f.user.contains("drvslice_downcall(&slice_entry") && f.user.hasPrefix("// SPDX"))
        #expect(f.user.contains("#include \"drvslice-user.h\""))
        #expect(h.header.contains("SLICE_NETDRV_open = 7,") && h.header.contains("SLICE_NETDRV_ENTRIES = 9"))
    }

    @Test func theHalvesJoinedByARuntimeRunAsTheDriverDid() throws {
        let (h, dir) = try halves()
        let out = dir + "/halves"
        for side in ["kernel", "user"] {
            try FileManager.default.createDirectory(atPath: "\(out)/\(side)", withIntermediateDirectories: true)
            try h.files[0].value(side).write(toFile: "\(out)/\(side)/netdrv.c", atomically: true, encoding: .utf8)
        }
        try h.header.write(toFile: "\(out)/\(h.headerName)", atomically: true, encoding: .utf8)
        // The fixture has no kernel headers: no MMIO to redirect.
        try "/* test */\n".write(toFile: "\(out)/drvslice-user.h", atomically: true, encoding: .utf8)
        // A runtime that calls across by id, and the kernel API the fixture
        // declares, each logging what it did.
        try """
            #include <errno.h>
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            #include "drvslice.h"
            #include "netdrv-slice.h"

            struct net_device;
            struct napi_struct;
            static char log_buf[4096];
            static void say(const char *what, const char *name)
            {
            	strcat(log_buf, what);
            	strcat(log_buf, name);
            	strcat(log_buf, " ");
            }
            static const char *failing;

            static const struct drvslice_target *by_id(const struct drvslice_target *t, unsigned short id)
            {
            	for (; t->name; t++)
            		if (t->id == id)
            			return t;
            	return NULL;
            }
            static const struct drvslice_target *by_fn(const struct drvslice_target *t, const void *fn)
            {
            	for (; t->name; t++)
            		if (t->fn == fn)
            			return t;
            	return NULL;
            }
            static int cross(const struct drvslice_target *served, const struct drvslice_entry *e, void *const args[], void *ret)
            {
            	const struct drvslice_target *t = by_id(served, e->id);

            	say(e->dir == DRVSLICE_UP ? "up:" : "down:", e->name);
            	if (!t || strcmp(t->name, e->name))
            		return -ENOENT;
            	if (failing && !strcmp(failing, e->name))
            		return -EIO;
            	return t->call(args, ret);
            }
            int drvslice_upcall(const struct drvslice_entry *e, void *const args[], void *ret)
            {
            	return cross(slice_netdrv_user_targets_netdrv, e, args, ret);
            }
            int drvslice_downcall(const struct drvslice_entry *e, void *const args[], void *ret)
            {
            	return cross(slice_netdrv_kernel_targets_netdrv, e, args, ret);
            }

            static int (*irq_handler)(int, void *);
            static int (*napi_poll)(struct napi_struct *, int);
            int request_irq(unsigned irq, int (*handler)(int, void *), unsigned long flags, const char *name, void *dev)
            {
            	(void)flags; (void)name; (void)dev;
            	say("request_irq:", "");
            	irq_handler = handler;
            	return (int)irq * 10;
            }
            void netif_napi_add(struct net_device *dev, struct napi_struct *napi, int (*poll)(struct napi_struct *, int))
            {
            	(void)dev; (void)napi;
            	say("netif_napi_add:", "");
            	napi_poll = poll;
            }
            void iowrite8(unsigned char v, void *addr)
            {
            	char b[8];
            	(void)addr;
            	snprintf(b, sizeof(b), "%u", v);
            	say("iowrite8:", b);
            }
            unsigned char ioread8(void *addr)
            {
            	(void)addr;
            	say("ioread8:", "");
            	return 40;
            }

            int main(int argc, char **argv)
            {
            	/* The kernel holds open as its half's stub: call it as the stack would. */
            	const struct drvslice_target *open = by_id(slice_netdrv_kernel_stubs_netdrv, SLICE_NETDRV_open);
            	const struct drvslice_target *isr_stub, *isr, *poll;
            	int r;

            	failing = argc > 1 ? argv[1] : NULL;
            	if (!open)
            		return 2;
            	r = ((int (*)(struct net_device *))open->fn)(NULL);
            	printf("open=%d\\n%s\\n", r, log_buf);
            	if (failing)
            		return 0;
            	/* request_irq got the user half's isr: its stub there.  The
            	 * kernel half's own isr has the same id. */
            	log_buf[0] = 0;
            	isr_stub = by_fn(slice_netdrv_user_stubs_netdrv, (const void *)irq_handler);
            	isr = isr_stub ? by_id(slice_netdrv_kernel_targets_netdrv, isr_stub->id) : NULL;
            	poll = by_fn(slice_netdrv_user_stubs_netdrv, (const void *)napi_poll);
            	if (!isr || !poll || strcmp(isr->name, "isr") || strcmp(poll->name, "poll"))
            		return 3;
            	r = ((int (*)(int, void *))isr->fn)(5, NULL);
            	printf("isr=%d\\n%s\\n", r, log_buf);
            	return 0;
            }
            """.write(toFile: "\(out)/main.c", atomically: true, encoding: .utf8)
        let include = #filePath.components(separatedBy: "/Tests/")[0] + "/module/include"
        let cc = try Self.run(["gcc", "-std=gnu11", "-Wall", "-Werror", "-Wno-unused-function", "-I", out, "-I", include,
                               "-o", "driver", "kernel/netdrv.c", "user/netdrv.c", "main.c"], in: out)
        #expect(cc.0 == 0, "\(cc.1)")
        guard cc.0 == 0 else { return }
        // open runs in the user half: read_eeprom there, set_rx_mode down in
        // the kernel half, the registrations with the user half's stubs.
        let run = try Self.run(["./driver"], in: out)
        #expect(run.1 == """
            open=50
            up:open ioread8: netif_napi_add: down:set_rx_mode iowrite8:3 request_irq:\u{20}
            isr=1
            ioread8:\u{20}

            """, "\(run.1)")
        // A call across that fails: the stub returns the errno.
        let failed = try Self.run(["./driver", "open"], in: out)
        #expect(failed.1 == "open=-5\nup:open \n", "\(failed.1)")
        let failedDown = try Self.run(["./driver", "set_rx_mode"], in: out)
        #expect(failedDown.1.hasPrefix("open=50\n") && failedDown.1.contains("down:set_rx_mode request_irq:"), "\(failedDown.1)")
    }

    /// `struct priv *p = netdev_priv(dev)`: the kernel function gives the
    /// driver's struct (the runtime types the private area a kernel object
    /// carries by it); a driver function returning `void *` is no accessor.
    @Test func privateAreasAreFoundByTheirAccessor() throws {
        let src = """
            struct net_device; struct priv { int up; }; struct other { int x; };
            void *netdev_priv(const struct net_device *dev);
            static void *mine(void) { return 0; }
            static int open(struct net_device *dev)
            {
                struct priv *p = netdev_priv(dev);
                struct other *o;
                o = mine();
                p->up = o->x;
                return 0;
            }
            """
        let g = try CallGraph.build(files: [try fixture.write(src, "priv.c")], arguments: [])
        #expect(g.privateAccessors == ["netdev_priv": ["priv"]])
    }

    /// An annotation the tool cannot honour is an error naming where it was
    /// written and why: a field the driver does not use, a kind that does
    /// not fit the field's type, a length that is neither a number nor a
    /// field, an outer struct the driver does not have.
    @Test func annotationsThatCannotBeHonouredAreErrorsWithTheirLine() throws {
        let src = """
            struct spinlock { int raw; };
            struct priv { int a; char *name; void *regs; struct spinlock lock; int *ring; int n; };
            struct ops { int (*open)(struct priv *); };
            void spin_lock(struct spinlock *l);
            static int open(struct priv *p)
            {
                spin_lock(&p->lock);
                return p->a + (p->name != 0) + (p->regs != 0) + p->ring[p->n];
            }
            static const struct ops o = { .open = open };
            """
        let g = try CallGraph.build(files: [try fixture.write(src, "ann.c")], arguments: [])
        func check(_ line: String) throws {
            var a = AnnotationSet()
            try a.add(line + "\n", file: "ann.slice")
            try a.check(against: g)
        }
        for good in ["nullterm priv.name", "array priv.ring 8", "array priv.ring n", "sentinel priv.ring 0",
                     "opaque priv.regs", "combolock priv.lock", "storefield priv.a", "container priv.regs priv"] {
            try check(good)
        }
        let bad: [(String, String)] = [
            ("nullterm priv.nosuch", "the driver does not use such a field"),
            ("nullterm priv.a", "it is int, not a char pointer or array"),
            ("array priv.a 4", "it is int, not a pointer"),
            ("combolock priv.name", "it is char *, not a spinlock or mutex"),
            ("array priv.ring 0", "a length of 0"),
            ("array priv.ring count", "its length count is neither a number nor a field of priv the driver uses"),
            ("container priv.regs nosuch", "nosuch is no struct of the driver"),
        ]
        for (line, why) in bad {
            #expect { try check(line) } throws: { "\($0)" == "ann.slice:1: cannot honour `\(line.split(separator: " ").prefix(2).joined(separator: " "))`: \(why)" }
        }
    }

    /// The module's init and exit (module_init expands to a __inittest
    /// that names the function, and init_module aliased to it) stay whole
    /// in both halves: each side runs the module's init.
    @Test func theModulesInitAndExitStayWholeInBothHalves() throws {
        // The macros live in a header, as module.h's do (written in the
        // driver's own file, clang would show their tokens there).
        let header = """
            typedef int (*initcall_t)(void);
            typedef void (*exitcall_t)(void);
            #define module_init(initfn) \\
                static inline initcall_t __inittest(void) { return initfn; } \\
                int init_module(void) __attribute__((alias(#initfn)));
            #define module_exit(exitfn) \\
                static inline exitcall_t __exittest(void) { return exitfn; } \\
                void cleanup_module(void) __attribute__((alias(#exitfn)));
            """
        let src = """
            #include "module.h"
            struct ops { int (*xmit)(int); int (*open)(int); };
            int register_ops(const struct ops *o);
            void unregister_ops(const struct ops *o);
            static int xmit(int n) { return n; }
            static int open(int n) { return n + 1; }
            static const struct ops ops = { .xmit = xmit, .open = open };
            static int drv_init(void) { return register_ops(&ops); }
            static void drv_exit(void) { unregister_ops(&ops); }
            module_init(drv_init);
            module_exit(drv_exit);
            """
        let path = try fixture.write(src, "mod.c")
        try header.write(toFile: (path as NSString).deletingLastPathComponent + "/module.h", atomically: true, encoding: .utf8)
        let g = try CallGraph.build(files: [path], arguments: [])
        #expect(g.moduleEntries == ["drv_init", "drv_exit"])
        var t = InterfaceTable()
        try t.add("field ops.xmit bandwidth\nfield ops.* user\n", file: "t.iface")
        let h = try SliceHalves(driver: "mod", split: Split(graph: g, interfaces: t), graph: g)
        for half in [h.files[0].kernel, h.files[0].user] {
            #expect(half.contains("static int drv_init(void) { return register_ops(&ops); }"))
            #expect(half.contains("static void drv_exit(void) { unregister_ops(&ops); }"))
        }
    }

    /// `combolock STRUCT.FIELD` puts the lock in both halves' ComboLock
    /// table (where the runtime finds it in a tracked object); without the
    /// annotation neither has one; a lock the runtime could not find (in a
    /// struct of which nothing crosses) or could not take (a mutex) is an
    /// error naming the annotation's line.
    @Test func aComboLockIsInBothDescriptionsOrAnError() throws {
        let src = """
            typedef struct spinlock { int v; } spinlock_t;
            struct mutex { long owner; };
            struct priv { int a; spinlock_t lock; struct mutex m; };
            struct other { int b; spinlock_t olock; };
            struct ops { int (*rx)(struct priv *); int (*stop)(struct priv *); };
            void spin_lock(spinlock_t *l);
            void spin_unlock(spinlock_t *l);
            void mutex_lock(struct mutex *m);
            static struct other oth;
            static int rx(struct priv *p) { spin_lock(&p->lock); p->a++; spin_unlock(&p->lock); return 0; }
            static int stop(struct priv *p)
            {
                spin_lock(&p->lock); p->a = 0; spin_unlock(&p->lock);
                mutex_lock(&p->m); spin_lock(&oth.olock);
                return p->a;
            }
            static const struct ops o = { .rx = rx, .stop = stop };
            """
        let g = try CallGraph.build(files: [try fixture.write(src, "cl.c")], arguments: [])
        var t = InterfaceTable()
        try t.add("field ops.rx bandwidth\nfield ops.stop user\n", file: "t.iface")
        let split = Split(graph: g, interfaces: t)
        func halves(_ line: String?) throws -> SliceHalves {
            var a = AnnotationSet()
            if let line { try a.add(line + "\n", file: "cl.slice") }
            return try SliceHalves(driver: "cl", split: split, graph: g, annotations: a)
        }
        let entry = "{ \"priv.lock\", SLICE_CL_T_priv, __builtin_offsetof(struct priv, lock) },"
        let with = try halves("combolock priv.lock")
        for half in [with.files[0].kernel, with.files[0].user] {
            #expect(half.contains("static const struct drvslice_combolock"))
            #expect(half.contains(entry))
            #expect(half.contains("1, slice_cl_\(half == with.files[0].kernel ? "kernel" : "user")_combolocks\n};"))
        }
        let without = try halves(nil)
        #expect(!without.files[0].kernel.contains(entry) && without.files[0].kernel.contains("0, slice_cl_kernel_combolocks\n};"))
        #expect { try halves("combolock other.olock") } throws: {
            "\($0)".hasPrefix("cl.slice:1: cannot honour `combolock other.olock`: no field of struct other crosses the split")
        }
        #expect { try halves("combolock priv.m") } throws: {
            "\($0)" == "cl.slice:1: cannot honour `combolock priv.m`: it is struct mutex; the runtime carries spinlock_t ComboLocks only"
        }
    }

    /// An array member passed where the callee takes a pointer to
    /// non-const (strscpy's destination, memset's) is written by the call,
    /// so the function's entry carries it back; one passed as const (a
    /// source) is only read.
    @Test func anArrayPassedToAWritingCalleeIsWritten() throws {
        let src = """
            struct info { char driver[32]; char version[32]; };
            struct ops { void (*get)(struct info *); };
            long strscpy(char *dst, const char *src, unsigned long n);
            int strcmp(const char *a, const char *b);
            static void get(struct info *i) { if (strcmp(i->version, "1")) strscpy(i->driver, "cl", sizeof(i->driver)); }
            static const struct ops o = { .get = get };
            """
        let g = try CallGraph.build(files: [try fixture.write(src, "arr.c")], arguments: [])
        #expect(g.fieldWrites["get"] == ["info.driver"])
        #expect(g.fieldReads["get"] == ["info.driver", "info.version"])
    }

    /// A function that must cross but cannot is an error naming its line.
    @Test func aVariadicEntryCannotCross() throws {
        let src = """
            struct ops { int (*op)(int, ...); };
            static int vop(int n, ...) { return n; }
            static const struct ops o = { .op = vop };
            """
        let path = try fixture.write(src, "var.c")
        let g = try CallGraph.build(files: [path], arguments: [])
        var t = InterfaceTable()
        try t.add("field ops.op user\n", file: "t.iface")
        #expect { try SliceHalves(driver: "var", split: Split(graph: g, interfaces: t), graph: g) } throws: {
            "\($0)".hasSuffix("var.c:2: vop: cannot cross the split: it is variadic")
        }
    }

    /// Runs `args` (through env) in `dir`: its exit status and its output,
    /// stdout and stderr together.
    static func run(_ args: [String], in dir: String) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

private extension SliceHalves.File {
    func value(_ side: String) -> String { side == "kernel" ? kernel : user }
}
