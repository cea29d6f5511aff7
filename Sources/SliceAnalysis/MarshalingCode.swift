// SPDX-License-Identifier: GPL-2.0
import CDrvXPC
import Foundation

/// The marshaling code generated from a spec: C for the kernel side and
/// Swift for the u-driver side, both speaking drvxpc's attributes
/// (`SLICE_STRUCT` { `SLICE_STRUCT_ID`, `SLICE_FIELD` { `SLICE_FIELD_ID`,
/// `SLICE_FIELD_VALUE` } … } per struct), copying exactly the fields each
/// entry point uses.
///
/// For every entry point, the *call* carries what the callee side reads
/// (and the addresses it passes on, as handles); the *return* carries
/// what it writes. An upcall's call goes kernel → u-driver, a downcall's
/// u-driver → kernel; the return goes back. Both languages get encoders and
/// decoders for both, so either side of either direction exists.
///
/// Field values travel in the struct's own little-endian layout: integers
/// at their size (bitfields by value), arrays and embedded structs as
/// bytes, pointers as 8-byte handles that are never followed (they are not
/// written back), nullterm strings as their bytes. Decoders check every
/// attribute (ids known for this entry and direction, exact lengths) and
/// fail naming the struct and field; they never trap.
///
/// Each struct's codec (its C accessors and table, its Swift `SliceStruct`
/// conformance) is emitted once per driver, and so is the one encoder and
/// decoder over the driver's objects (`struct slice_objs`, `SliceObjects`:
/// a pointer, or an optional, per struct). An entry point is only data over
/// them, its member sets per direction, and a direction whose sets equal
/// an earlier one's names that one's: a multi-file driver's entry points
/// reach many of the same structs (mlx5_core's 616 reach 58 of its 1,031
/// on average), and a copy of each struct's code per entry point made its
/// generated Swift 71.7 MB.
public struct MarshalingCode {
    /// The kernel side: `slice_DRIVER.c`.
    public let c: String
    /// The u-driver side: `DRIVERSlice.swift`.
    public let swift: String
    /// Structs left out because C cannot name them (anonymous ones).
    public let skipped: [String]

    struct Member {
        let id: Int
        let swift: String
        let c: String
        let decl: FieldDecl
        let address: Bool
        let kind: Kind
        enum Kind: Equatable { case integer, bytes, handle, string, pointed(Int) }
        /// Whether a decoder may store it (values only, not const, not a handle).
        var settable: Bool {
            guard !address, !decl.isConst else { return false }
            switch kind {
            case .integer, .bytes, .pointed: return true
            case .handle, .string: return false
            }
        }
    }

    struct Table {
        let id: Int
        let type: SwiftTypes.Generated
        let members: [Member]
    }

    /// - Parameters:
    ///   - driverPath: the driver's .c file, which the C code includes (it
    ///     needs the driver's own struct definitions).
    public init(graph g: CallGraph, spec: MarshalingSpec, types: SwiftTypes, driverPath: String, source: String) {
        var tables: [Table] = []
        var skipped: [String] = []
        for t in types.types {
            guard t.cName.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { skipped.append(t.cName); continue }
            let members = t.fields.enumerated().map { i, f -> Member in
                let key = "\(t.cName).\(f.c)"
                let kind: Member.Kind
                if f.address || f.decl.cType.hasSuffix("*") && f.decl.swiftType == "UInt64" {
                    kind = .handle
                } else if f.decl.swiftType == "String" {
                    kind = .string
                } else if f.decl.swiftType == "[UInt8]", g.fieldKinds[key] == .charPointer {
                    kind = .pointed(f.decl.byteCount)
                } else if f.decl.swiftType == "[UInt8]" {
                    kind = .bytes
                } else {
                    kind = .integer
                }
                return Member(id: i + 1, swift: f.swift, c: f.c, decl: f.decl, address: f.address, kind: kind)
            }
            tables.append(Table(id: tables.count + 1, type: t, members: members))
        }
        self.skipped = skipped
        // Per entry and direction: (table, member ids), only the structs
        // with something to carry in that direction.
        var entries: [Entry] = []
        for e in spec.entries {
            func members(_ t: Table, _ fields: [String: [String]], address: Bool, settableOnly: Bool) -> [Member] {
                let names = Set(fields[t.type.cName] ?? [])
                return t.members.filter { names.contains($0.c) && $0.address == address && (!settableOnly || $0.settable) }
            }
            var call: [(Table, [Member])] = [], ret: [(Table, [Member])] = [], crosses = false
            for t in tables {
                let c = members(t, e.reads, address: false, settableOnly: false) + members(t, e.handles, address: true, settableOnly: false)
                let r = members(t, e.writes, address: false, settableOnly: true)
                if !c.isEmpty { call.append((t, c.sorted { $0.id < $1.id })) }
                if !r.isEmpty { ret.append((t, r)) }
                crosses = crosses || !c.isEmpty || !r.isEmpty
            }
            if crosses { entries.append(Entry(spec: e, call: call, ret: ret)) }
        }
        c = Self.cSource(tables: tables, entries: entries, driverPath: driverPath, source: source, skipped: skipped)
        swift = Self.swiftSource(types: types, tables: tables, entries: entries, source: source)
    }

    /// One entry point's two directions: per struct that crosses in it,
    /// the members it carries (in member id order).
    struct Entry {
        let spec: EntrySpec
        let call: [(Table, [Member])]
        let ret: [(Table, [Member])]
    }

    /// A direction's sets as text, the key under which equal ones are
    /// emitted once (`3:1,2;7:4`).
    static func key(_ sets: [(Table, [Member])]) -> String {
        sets.map { "\($0.0.id):" + $0.1.map { "\($0.id)" }.joined(separator: ",") }.joined(separator: ";")
    }

    /// A C identifier for `s` (anything else becomes `_`).
    public static func cIdent(_ s: String) -> String { String(s.map { $0.isLetter || $0.isNumber ? $0 : "_" }) }

    // MARK: C

    static func cSource(tables: [Table], entries: [Entry], driverPath: String, source: String, skipped: [String]) -> String {
        var o: [String] = []
        o.append("// SPDX-License-Identifier: GPL-2.0")
        o.append("/*")
        o.append(" * Generated by driverslicer from \(source): field-minimal marshaling for the")
        o.append(" * split's entry points in drvxpc's SLICE_* attributes. Do not edit: change the")
        o.append(" * driver and run driverslicer --generate again.")
        if !skipped.isEmpty { o.append(" * Not here (C cannot name them): \(skipped.joined(separator: ", ")).") }
        o.append(" */")
        o.append("#include \"\(driverPath)\"")
        o.append("""
            #ifdef __KERNEL__
            #include <linux/errno.h>
            #include <linux/string.h>
            #include <linux/types.h>
            #else
            #include <errno.h>
            #include <string.h>
            #include <linux/types.h>
            #endif
            #include "drvxpc.h"

            #ifndef __maybe_unused
            #define __maybe_unused __attribute__((unused))
            #endif

            #if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
            #error "slice values travel in little-endian layout"
            #endif

            /* Where an encoder writes: data[0..len) used of cap. */
            struct slice_buf {
            \tunsigned char *data;
            \tunsigned int len, cap;
            };

            /* One member of a struct's table. get writes its value (size bytes,
             * or up to 4096 for a string, returned); set stores one (NULL: never). */
            struct slice_member {
            \t__u16 id;
            \t__u16 size;		/* 0: a string */
            \tconst char *name;
            \tint (*get)(const void *s, unsigned char *out);
            \tvoid (*set)(void *s, const unsigned char *in);
            };

            /* One struct's members, each once for the whole driver; slot is where
             * its pointer is in struct slice_objs. */
            struct slice_table {
            \t__u16 id;
            \tconst char *name;
            \tconst struct slice_member *members;
            \tunsigned int n;
            \tunsigned int slot;
            };

            /* The members of one struct that cross in one direction of one entry. */
            struct slice_set {
            \tconst struct slice_table *table;
            \tconst __u16 *ids;
            \tunsigned int n;
            };

            struct slice_dir {
            \tconst char *name;
            \tconst struct slice_set *sets;
            \tunsigned int n;
            };

            static int slice_attr(struct slice_buf *b, __u16 type, const void *v, unsigned int n)
            {
            \tstruct drvxpc_attr a;
            \tunsigned int total = DRVXPC_ALIGN(DRVXPC_ATTR_HDRLEN + n);

            \tif (n > 0xffff - DRVXPC_ATTR_HDRLEN || b->len + total > b->cap || b->len + total < b->len)
            \t\treturn -EMSGSIZE;
            \ta.len = (__u16)(DRVXPC_ATTR_HDRLEN + n);
            \ta.type = type;
            \tmemcpy(b->data + b->len, &a, sizeof(a));
            \tif (n)
            \t\tmemcpy(b->data + b->len + DRVXPC_ATTR_HDRLEN, v, n);
            \tmemset(b->data + b->len + DRVXPC_ATTR_HDRLEN + n, 0, total - DRVXPC_ATTR_HDRLEN - n);
            \tb->len += total;
            \treturn 0;
            }

            /* Opens a nested attribute; slice_end() fixes its length. */
            static int slice_begin(struct slice_buf *b, __u16 type, unsigned int *at)
            {
            \t*at = b->len;
            \treturn slice_attr(b, type | DRVXPC_A_F_NESTED, NULL, 0);
            }

            /* The object of @t's struct in @objs (a struct slice_objs: pointers to
             * structs, all of one representation); NULL: not given. */
            static void *slice_obj(const void *objs, const struct slice_table *t)
            {
            \tvoid *p;

            \tmemcpy(&p, (const char *)objs + t->slot, sizeof(p));
            \treturn p;
            }

            static int slice_end(struct slice_buf *b, unsigned int at)
            {
            \tstruct drvxpc_attr a;

            \tif (b->len - at > 0xffff)
            \t\treturn -EMSGSIZE;
            \tmemcpy(&a, b->data + at, sizeof(a));
            \ta.len = (__u16)(b->len - at);
            \tmemcpy(b->data + at, &a, sizeof(a));
            \treturn 0;
            }

            /* Encodes @d's members of the structs in @objs (a struct slice_objs;
             * a NULL pointer leaves that struct out). */
            static int __maybe_unused slice_put(struct slice_buf *b, const struct slice_dir *d, const void *objs)
            {
            \tunsigned char v[4096];
            \tunsigned int i, k, s, f;
            \tint r, n;

            \tfor (i = 0; i < d->n; i++) {
            \t\tconst struct slice_set *set = &d->sets[i];
            \t\tconst void *obj = slice_obj(objs, set->table);
            \t\t__u16 sid = set->table->id;

            \t\tif (!obj || !set->n)
            \t\t\tcontinue;
            \t\tif ((r = slice_begin(b, DRVXPC_A_SLICE_STRUCT, &s)) ||
            \t\t    (r = slice_attr(b, DRVXPC_A_SLICE_STRUCT_ID, &sid, 2)))
            \t\t\treturn r;
            \t\tfor (k = 0; k < set->n; k++) {
            \t\t\tconst struct slice_member *m = &set->table->members[set->ids[k] - 1];

            \t\t\tn = m->get(obj, v);
            \t\t\tif (n < 0)
            \t\t\t\treturn n;
            \t\t\tif ((r = slice_begin(b, DRVXPC_A_SLICE_FIELD, &f)) ||
            \t\t\t    (r = slice_attr(b, DRVXPC_A_SLICE_FIELD_ID, &m->id, 2)) ||
            \t\t\t    (r = slice_attr(b, DRVXPC_A_SLICE_FIELD_VALUE, v, (unsigned int)n)) ||
            \t\t\t    (r = slice_end(b, f)))
            \t\t\t\treturn r;
            \t\t}
            \t\tif ((r = slice_end(b, s)))
            \t\t\treturn r;
            \t}
            \treturn 0;
            }

            /* The next attribute in [*p, end): its type and payload; -EINVAL if it
             * does not fit. */
            static int slice_next(const unsigned char **p, const unsigned char *end, __u16 *type,
            \t\t      const unsigned char **payload, unsigned int *n)
            {
            \tstruct drvxpc_attr a;
            \tunsigned int total;

            \tif ((unsigned long)(end - *p) < DRVXPC_ATTR_HDRLEN)
            \t\treturn -EINVAL;
            \tmemcpy(&a, *p, sizeof(a));
            \tif (a.len < DRVXPC_ATTR_HDRLEN || a.len > (unsigned long)(end - *p))
            \t\treturn -EINVAL;
            \t*type = a.type;
            \t*payload = *p + DRVXPC_ATTR_HDRLEN;
            \t*n = a.len - DRVXPC_ATTR_HDRLEN;
            \ttotal = DRVXPC_ALIGN(a.len);
            \t*p += total < (unsigned long)(end - *p) ? total : (unsigned long)(end - *p);
            \treturn 0;
            }

            /* Decodes what @d allows into the structs of @objs (a struct slice_objs;
             * a struct not in the message is left as it is). Anything else is
             * -EINVAL; nothing is stored from a message that fails. */
            static int __maybe_unused slice_get(const void *data, unsigned int len, const struct slice_dir *d,
            \t\t\t\t    const void *objs)
            {
            \tint pass;

            \t/* Pass 0 checks everything, pass 1 stores. */
            \tfor (pass = 0; pass < 2; pass++) {
            \t\tconst unsigned char *p = data, *end = p + len;

            \t\twhile (p < end) {
            \t\t\tconst unsigned char *sp, *send, *pl;
            \t\t\tconst struct slice_set *set = NULL;
            \t\t\tunsigned int n, i;
            \t\t\t__u16 type;

            \t\t\tif (slice_next(&p, end, &type, &pl, &n) || type != (DRVXPC_A_SLICE_STRUCT | DRVXPC_A_F_NESTED))
            \t\t\t\treturn -EINVAL;
            \t\t\tsp = pl;
            \t\t\tsend = pl + n;
            \t\t\t{
            \t\t\t\tconst unsigned char *q;
            \t\t\t\t__u16 sid;

            \t\t\t\tif (slice_next(&sp, send, &type, &q, &n) || type != DRVXPC_A_SLICE_STRUCT_ID || n != 2)
            \t\t\t\t\treturn -EINVAL;
            \t\t\t\tmemcpy(&sid, q, 2);
            \t\t\t\tfor (i = 0; i < d->n; i++)
            \t\t\t\t\tif (d->sets[i].table->id == sid && slice_obj(objs, d->sets[i].table))
            \t\t\t\t\t\tset = &d->sets[i];
            \t\t\t\tif (!set)
            \t\t\t\t\treturn -EINVAL;
            \t\t\t}
            \t\t\twhile (sp < send) {
            \t\t\t\tconst unsigned char *fp, *fend, *q, *value = NULL;
            \t\t\t\tconst struct slice_member *m = NULL;
            \t\t\t\tunsigned int vlen = 0;
            \t\t\t\t__u16 fid = 0;
            \t\t\t\tint have_id = 0;

            \t\t\t\tif (slice_next(&sp, send, &type, &fp, &n) || type != (DRVXPC_A_SLICE_FIELD | DRVXPC_A_F_NESTED))
            \t\t\t\t\treturn -EINVAL;
            \t\t\t\tfend = fp + n;
            \t\t\t\twhile (fp < fend) {
            \t\t\t\t\tif (slice_next(&fp, fend, &type, &q, &n))
            \t\t\t\t\t\treturn -EINVAL;
            \t\t\t\t\tif (type == DRVXPC_A_SLICE_FIELD_ID && n == 2 && !have_id) {
            \t\t\t\t\t\tmemcpy(&fid, q, 2);
            \t\t\t\t\t\thave_id = 1;
            \t\t\t\t\t} else if (type == DRVXPC_A_SLICE_FIELD_VALUE && !value) {
            \t\t\t\t\t\tvalue = q;
            \t\t\t\t\t\tvlen = n;
            \t\t\t\t\t} else {
            \t\t\t\t\t\treturn -EINVAL;
            \t\t\t\t\t}
            \t\t\t\t}
            \t\t\t\tfor (i = 0; i < set->n; i++)
            \t\t\t\t\tif (set->ids[i] == fid)
            \t\t\t\t\t\tm = &set->table->members[fid - 1];
            \t\t\t\tif (!have_id || !value || !m || !m->set || vlen != m->size)
            \t\t\t\t\treturn -EINVAL;
            \t\t\t\tif (pass == 1)
            \t\t\t\t\tm->set(slice_obj(objs, set->table), value);
            \t\t\t}
            \t\t}
            \t}
            \treturn 0;
            }
            """)
        // The objects an entry's messages are made of and stored into, one
        // pointer per struct: the same for every entry point.
        o.append("")
        o.append("/* The structs the entry points' messages carry, one pointer each (NULL: not")
        o.append(" * given); every put and get of this file takes one. */")
        o.append("struct slice_objs {")
        for t in tables { o.append("\tstruct \(t.type.cName) *\(cIdent(t.type.cName));") }
        if tables.isEmpty { o.append("\tvoid *none;") }
        o.append("};")
        // Accessors and tables, each struct's once.
        for t in tables {
            let sn = "struct \(t.type.cName)"
            for m in t.members {
                let fn = "slice_\(cIdent(t.type.cName))_\(m.id)"
                o.append("")
                o.append("/* \(t.type.cName).\(m.address ? "&" : "")\(m.c): \(m.decl.cType) (\(m.decl.origin)) */")
                o.append("static int \(fn)_get(const void *o, unsigned char *out)")
                o.append("{")
                o.append("\tconst \(sn) *s = o;")
                switch m.kind {
                case .handle:
                    o.append("\t__u64 v = (__u64)(unsigned long)\(m.address ? "&s->\(m.c)" : "s->\(m.c)");")
                    o.append("")
                    o.append("\tmemcpy(out, &v, 8);")
                    o.append("\treturn 8;")
                case .integer:
                    o.append("\t__u64 v = (__u64)s->\(m.c);")
                    o.append("")
                    o.append("\tmemcpy(out, &v, \(m.decl.byteCount));")
                    o.append("\treturn \(m.decl.byteCount);")
                case .bytes:
                    o.append("\tmemcpy(out, &s->\(m.c), \(m.decl.byteCount));")
                    o.append("\treturn \(m.decl.byteCount);")
                case .pointed(let n):
                    o.append("\tif (!s->\(m.c))")
                    o.append("\t\treturn -EINVAL;")
                    o.append("\tmemcpy(out, s->\(m.c), \(n));")
                    o.append("\treturn \(n);")
                case .string:
                    o.append("\tunsigned int n = 0;")
                    o.append("")
                    o.append("\tif (s->\(m.c))")
                    o.append("\t\twhile (n < 4095 && s->\(m.c)[n])")
                    o.append("\t\t\tn++;")
                    o.append("\tif (n)")
                    o.append("\t\tmemcpy(out, s->\(m.c), n);")
                    o.append("\treturn (int)n;")
                }
                o.append("}")
                if m.settable {
                    o.append("")
                    o.append("static void \(fn)_set(void *o, const unsigned char *in)")
                    o.append("{")
                    o.append("\t\(sn) *s = o;")
                    switch m.kind {
                    case .integer:
                        o.append("\t__u64 v = 0;")
                        o.append("")
                        o.append("\tmemcpy(&v, in, \(m.decl.byteCount));")
                        o.append("\ts->\(m.c) = (\(m.decl.cType))v;")
                    case .bytes:
                        o.append("\tmemcpy(&s->\(m.c), in, \(m.decl.byteCount));")
                    case .pointed(let n):
                        o.append("\tif (s->\(m.c))")
                        o.append("\t\tmemcpy((void *)s->\(m.c), in, \(n));")
                    default:
                        break
                    }
                    o.append("}")
                }
            }
            o.append("")
            o.append("static const struct slice_member slice_\(cIdent(t.type.cName))_members[] = {")
            for m in t.members {
                let fn = "slice_\(cIdent(t.type.cName))_\(m.id)"
                let size: Int
                switch m.kind {
                case .handle: size = 8
                case .string: size = 0
                case .pointed(let n): size = n
                default: size = m.decl.byteCount
                }
                o.append("\t{ \(m.id), \(size), \"\(m.address ? "&" : "")\(m.c)\", \(fn)_get, \(m.settable ? "\(fn)_set" : "NULL") },")
            }
            o.append("};")
            o.append("")
            o.append("static const struct slice_table slice_\(cIdent(t.type.cName))_table = {")
            o.append("\t\(t.id), \"\(t.type.cName)\", slice_\(cIdent(t.type.cName))_members, \(t.members.count),")
            o.append("\t__builtin_offsetof(struct slice_objs, \(cIdent(t.type.cName)))")
            o.append("};")
        }
        // The member id lists, each once (most recur: an entry point's
        // closure reaches the same fields of a struct as another's).
        var idLists: [String: String] = [:]
        var idOrder: [String] = []
        for e in entries {
            for (_, ms) in e.call + e.ret {
                let list = ms.map { "\($0.id)" }.joined(separator: ", ")
                if idLists[list] == nil {
                    idLists[list] = "slice_ids_\(idLists.count + 1)"
                    idOrder.append(list)
                }
            }
        }
        if !idOrder.isEmpty {
            o.append("")
            o.append("/* Member id lists, each once; the entry points' sets below name them. */")
            for list in idOrder { o.append("static const __u16 \(idLists[list] ?? "")[] = { \(list) };") }
        }
        // Per entry: its two directions (a direction with the same sets as
        // one before it shares that one's), typed wrappers.
        var setsNamed: [String: (name: String, what: String)] = [:]
        for e in entries {
            let en = cIdent(e.spec.function)
            o.append("")
            o.append("/* \(e.spec.direction.rawValue) \(e.spec.function) via \(e.spec.via) */")
            for (dname, sets) in [("call", e.call), ("return", e.ret)] {
                var array = "NULL"
                if !sets.isEmpty {
                    let k = key(sets)
                    if let same = setsNamed[k] {
                        array = same.name
                        o.append("/* \(dname): the sets of \(same.what) */")
                    } else {
                        array = "slice_\(en)_\(dname)_sets"
                        setsNamed[k] = (array, "\(e.spec.function)'s \(dname)")
                        o.append("static const struct slice_set \(array)[] = {")
                        for (t, ms) in sets {
                            let list = ms.map { "\($0.id)" }.joined(separator: ", ")
                            o.append("\t{ &slice_\(cIdent(t.type.cName))_table, \(idLists[list] ?? "NULL"), \(ms.count) },")
                        }
                        o.append("};")
                    }
                }
                o.append("static const struct slice_dir slice_\(en)_\(dname) = { \"\(e.spec.function) \(dname)\", \(array), \(sets.count) };")
            }
            for dname in ["call", "return"] {
                o.append("static inline __maybe_unused int slice_\(en)_put_\(dname)(struct slice_buf *b, const struct slice_objs *o)")
                o.append("{")
                o.append("\treturn slice_put(b, &slice_\(en)_\(dname), o);")
                o.append("}")
                o.append("static inline __maybe_unused int slice_\(en)_get_\(dname)(const void *data, unsigned int len, const struct slice_objs *o)")
                o.append("{")
                o.append("\treturn slice_get(data, len, &slice_\(en)_\(dname), o);")
                o.append("}")
            }
        }
        return o.joined(separator: "\n") + "\n"
    }

    // MARK: Swift

    static func swiftSource(types: SwiftTypes, tables: [Table], entries: [Entry], source: String) -> String {
        let sStruct = Int(DRVXPC_A_SLICE_STRUCT.rawValue), sStructID = Int(DRVXPC_A_SLICE_STRUCT_ID.rawValue)
        let sField = Int(DRVXPC_A_SLICE_FIELD.rawValue), sFieldID = Int(DRVXPC_A_SLICE_FIELD_ID.rawValue)
        let sValue = Int(DRVXPC_A_SLICE_FIELD_VALUE.rawValue), nested = Int(DRVXPC_A_F_NESTED)
        var o: [String] = [types.text]
        o.append("""
            // MARK: marshaling (drvxpc SLICE_* attributes; ids from drvxpc.h)

            /// A message that does not decode, naming where.
            public enum SliceWireError: Error, Equatable, CustomStringConvertible {
                case malformed(String)
                case field(structName: String, field: String, String)

                public var description: String {
                    switch self {
                    case .malformed(let s): return "malformed: \\(s)"
                    case .field(let s, let f, let why): return "\\(s).\\(f): \\(why)"
                    }
                }
            }

            /// drvxpc's attribute framing (the same as netlink's), self-contained.
            public enum SliceWire {
                public static let structAttr: UInt16 = \(sStruct), structID: UInt16 = \(sStructID), field: UInt16 = \(sField)
                public static let fieldID: UInt16 = \(sFieldID), fieldValue: UInt16 = \(sValue), nestedFlag: UInt16 = \(nested)

                static func put(_ out: inout [UInt8], _ type: UInt16, _ value: [UInt8]) {
                    let len = 4 + value.count
                    out += [UInt8(len & 0xff), UInt8(len >> 8), UInt8(type & 0xff), UInt8(type >> 8)] + value
                    out += [UInt8](repeating: 0, count: (4 - len % 4) % 4)
                }

                static func nest(_ out: inout [UInt8], _ type: UInt16, _ body: [UInt8]) {
                    put(&out, type | nestedFlag, body)
                }

                /// The attributes in `b`, in order; never traps.
                static func attributes(_ b: ArraySlice<UInt8>) throws -> [(UInt16, ArraySlice<UInt8>)] {
                    var out: [(UInt16, ArraySlice<UInt8>)] = []
                    var i = b.startIndex
                    while i < b.endIndex {
                        guard b.endIndex - i >= 4 else { throw SliceWireError.malformed("\\(b.endIndex - i) stray bytes") }
                        let len = Int(b[i]) | Int(b[i + 1]) << 8, type = UInt16(b[i + 2]) | UInt16(b[i + 3]) << 8
                        guard len >= 4, len <= b.endIndex - i else { throw SliceWireError.malformed("attribute length \\(len)") }
                        out.append((type, b[(i + 4)..<(i + len)]))
                        i += min((len + 3) & ~3, b.endIndex - i)
                    }
                    return out
                }

                static func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

                static func le(_ b: ArraySlice<UInt8>) -> UInt64 {
                    b.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
                }

                /// Splits `bytes` into (struct id, [(field id, value)]) records, checked.
                static func records(_ bytes: [UInt8]) throws -> [(UInt16, [(UInt16, ArraySlice<UInt8>)])] {
                    var out: [(UInt16, [(UInt16, ArraySlice<UInt8>)])] = []
                    for (t, p) in try attributes(bytes[...]) {
                        guard t == structAttr | nestedFlag else { throw SliceWireError.malformed("attribute \\(t) where SLICE_STRUCT belongs") }
                        let inner = try attributes(p)
                        guard let first = inner.first, first.0 == structID, first.1.count == 2 else {
                            throw SliceWireError.malformed("SLICE_STRUCT without its SLICE_STRUCT_ID first")
                        }
                        var fields: [(UInt16, ArraySlice<UInt8>)] = []
                        for (ft, fp) in inner.dropFirst() {
                            guard ft == field | nestedFlag else { throw SliceWireError.malformed("attribute \\(ft) where SLICE_FIELD belongs") }
                            var id: UInt16?, value: ArraySlice<UInt8>?
                            for (at, ap) in try attributes(fp) {
                                if at == fieldID, ap.count == 2, id == nil { id = UInt16(le(ap)) }
                                else if at == fieldValue, value == nil { value = ap }
                                else { throw SliceWireError.malformed("attribute \\(at) in SLICE_FIELD") }
                            }
                            guard let id, let value else { throw SliceWireError.malformed("SLICE_FIELD without its id or value") }
                            fields.append((id, value))
                        }
                        out.append((UInt16(le(first.1)), fields))
                    }
                    return out
                }

                /// Appends `s`'s members `ids` as one SLICE_STRUCT.
                static func encode<S: SliceStruct>(_ s: S, _ ids: Set<UInt16>, into out: inout [UInt8]) {
                    var body: [UInt8] = []
                    put(&body, structID, le(UInt64(S.sliceStructID), 2))
                    for id in ids.sorted() {
                        var f: [UInt8] = []
                        put(&f, fieldID, le(UInt64(id), 2))
                        put(&f, fieldValue, s.sliceValue(id))
                        nest(&body, field, f)
                    }
                    nest(&out, structAttr, body)
                }

                /// Stores member `id` of the struct in `s`, which must be given.
                static func store<S: SliceStruct>(_ s: inout S?, _ id: UInt16, _ v: ArraySlice<UInt8>, _ cName: String) throws {
                    guard var x = s else { throw SliceWireError.malformed("no \\(cName) given to decode into") }
                    try x.sliceStore(id, v)
                    s = x
                }
            }

            /// A struct with a table in the generated marshaling: its members'
            /// values as they travel, each struct's once for all entry points.
            public protocol SliceStruct {
                /// Its table id.
                static var sliceStructID: UInt16 { get }
                /// The value of member `id` as it travels.
                func sliceValue(_ id: UInt16) -> [UInt8]
                /// Stores member `id` from `v`, checked against its size.
                mutating func sliceStore(_ id: UInt16, _ v: ArraySlice<UInt8>) throws
            }
            """)
        for t in tables {
            o.append("")
            o.append("extension \(t.type.swiftName): SliceStruct {")
            o.append("    /// Table id \(t.id) in the generated marshaling.")
            o.append("    public static let sliceStructID: UInt16 = \(t.id)")
            o.append("")
            o.append("    /// The value of member `id` as it travels.")
            o.append("    public func sliceValue(_ id: UInt16) -> [UInt8] {")
            o.append("        switch id {")
            for m in t.members {
                // self.: a field may be named like the parameters (id, v) or be `self`.
                let value = "self.\(m.swift)"
                let expr: String
                switch m.decl.swiftType {
                case "Bool": expr = "[\(value) ? 1 : 0] + [UInt8](repeating: 0, count: \(max(0, m.decl.byteCount - 1)))"
                case "String": expr = "Array(\(value).utf8.prefix(4095))"
                case "[UInt8]": expr = value
                default:
                    expr = m.decl.swiftType.hasPrefix("Int") ? "SliceWire.le(UInt64(bitPattern: Int64(\(value))), \(m.decl.byteCount))"
                        : "SliceWire.le(UInt64(\(value)), \(m.decl.byteCount))"
                }
                o.append("        case \(m.id): return \(expr)")
            }
            o.append("        default: return []")
            o.append("        }")
            o.append("    }")
            o.append("")
            o.append("    /// Stores member `id` from `v`, checked against its size.")
            o.append("    public mutating func sliceStore(_ id: UInt16, _ v: ArraySlice<UInt8>) throws {")
            o.append("        switch id {")
            for m in t.members {
                let value = "self.\(m.swift)"
                let err = "throw SliceWireError.field(structName: \"\(t.type.cName)\", field: \"\(m.address ? "&" : "")\(m.c)\""
                switch m.decl.swiftType {
                case "String":
                    o.append("        case \(m.id): guard v.count <= 4095 else { \(err), \"\\(v.count) bytes for a string\") }")
                    o.append("            \(value) = String(decoding: v, as: UTF8.self)")
                case "[UInt8]":
                    o.append("        case \(m.id): guard v.count == \(m.decl.byteCount) else { \(err), \"\\(v.count) bytes, expected \(m.decl.byteCount)\") }")
                    o.append("            \(value) = Array(v)")
                case "Bool":
                    o.append("        case \(m.id): guard v.count == \(m.decl.byteCount) else { \(err), \"\\(v.count) bytes, expected \(m.decl.byteCount)\") }")
                    o.append("            \(value) = SliceWire.le(v) != 0")
                default:
                    let size = m.decl.byteCount
                    let conv = m.decl.swiftType.hasPrefix("Int")
                        ? "\(m.decl.swiftType)(truncatingIfNeeded: Int64(bitPattern: SliceWire.le(v) << \(64 - 8 * size)) >> \(64 - 8 * size))"
                        : "\(m.decl.swiftType)(truncatingIfNeeded: SliceWire.le(v))"
                    o.append("        case \(m.id): guard v.count == \(size) else { \(err), \"\\(v.count) bytes, expected \(size)\") }")
                    o.append("            \(value) = \(conv)")
                }
            }
            o.append("        default: throw SliceWireError.malformed(\"no member \\(id) in \(t.type.cName)\")")
            o.append("        }")
            o.append("    }")
            o.append("}")
        }
        // The objects every entry point's messages are made of, and the one
        // encoder and decoder over them: per struct, one line each.
        var used = Set(["sliceEncode", "sliceDecode"])
        let props: [(Table, String)] = tables.map { t in
            var p = SwiftTypes.property(t.type.cName)
            while !used.insert(p).inserted { p += "_" }
            return (t, p)
        }
        o.append("")
        o.append("/// The structs the entry points' messages carry, each optional (nil: not given):")
        o.append("/// every entry's encoders read one, its decoders store into one.")
        o.append("public struct SliceObjects: Sendable, Equatable {")
        for (t, p) in props { o.append("    public var \(p): \(t.type.swiftName)?") }
        o.append("")
        o.append("    public init(\(props.map { "\($0.1): \($0.0.type.swiftName)? = nil" }.joined(separator: ", "))) {")
        for (_, p) in props { o.append("        self.\(p) = \(p)") }
        o.append("    }")
        o.append("")
        o.append("    /// The message carrying `members` (struct id → member ids) of the structs given,")
        o.append("    /// in struct id order.")
        o.append("    public func sliceEncode(_ members: [UInt16: Set<UInt16>]) -> [UInt8] {")
        o.append("        var out: [UInt8] = []")
        o.append("        for (sid, ids) in members.sorted(by: { $0.key < $1.key }) {")
        o.append("            switch sid {")
        for (t, p) in props { o.append("            case \(t.id): if let s = self.\(p) { SliceWire.encode(s, ids, into: &out) }") }
        o.append("            default: break")
        o.append("            }")
        o.append("        }")
        o.append("        return out")
        o.append("    }")
        o.append("")
        o.append("    /// Stores what `bytes` carries into the structs given. A struct or member")
        o.append("    /// `allowed` does not have, a struct not given, or a value of the wrong size")
        o.append("    /// throws, and then nothing is stored.")
        o.append("    public mutating func sliceDecode(_ bytes: [UInt8], allowed: [UInt16: Set<UInt16>], what: String) throws {")
        o.append("        var new = self")
        o.append("        for (sid, fields) in try SliceWire.records(bytes) {")
        o.append("            guard let ok = allowed[sid] else { throw SliceWireError.malformed(\"struct \\(sid) does not cross in \\(what)\") }")
        o.append("            for (fid, value) in fields {")
        o.append("                guard ok.contains(fid) else { throw SliceWireError.malformed(\"member \\(fid) of struct \\(sid) does not cross in \\(what)\") }")
        o.append("                switch sid {")
        for (t, p) in props { o.append("                case \(t.id): try SliceWire.store(&new.\(p), fid, value, \"\(t.type.cName)\")") }
        o.append("                default: throw SliceWireError.malformed(\"struct \\(sid)\")")
        o.append("                }")
        o.append("            }")
        o.append("        }")
        o.append("        self = new")
        o.append("    }")
        o.append("}")
        // Per entry: which members cross (a direction with the same sets as
        // one before it names that one's), and four one-line functions.
        var membersNamed: [String: String] = [:]
        for e in entries {
            let name = SwiftTypes.typeName(e.spec.function)
            o.append("")
            o.append("/// \(e.spec.direction.rawValue) `\(e.spec.function)` via \(e.spec.via): the call carries what the callee reads, the return what it writes.")
            o.append("public enum \(name)Slice {")
            for (dname, sets) in [("Call", e.call), ("Return", e.ret)] {
                let d = dname.lowercased()
                o.append("    /// (struct id, member ids) that may cross in the \(d).")
                let k = key(sets)
                if let same = membersNamed[k] {
                    o.append("    public static let \(d)Members: [UInt16: Set<UInt16>] = \(same)")
                } else {
                    membersNamed[k] = "\(name)Slice.\(d)Members"
                    let literal = sets.map { "\($0.0.id): [\($0.1.map { "\($0.id)" }.joined(separator: ", "))]" }.joined(separator: ", ")
                    o.append("    public static let \(d)Members: [UInt16: Set<UInt16>] = [\(sets.isEmpty ? ":" : literal)]")
                }
                o.append("")
                o.append("    /// The \(d)'s message: \(d)Members of the structs `objects` holds.")
                o.append("    public static func encode\(dname)(_ objects: SliceObjects) -> [UInt8] { objects.sliceEncode(\(d)Members) }")
                o.append("")
                o.append("    /// Stores into `objects` what the \(d) carries; a struct or member it may not carry,")
                o.append("    /// or a value of the wrong size, throws (and nothing is stored).")
                o.append("    public static func decode\(dname)(_ bytes: [UInt8], into objects: inout SliceObjects) throws {")
                o.append("        try objects.sliceDecode(bytes, allowed: \(d)Members, what: \"\(e.spec.function)'s \(d)\")")
                o.append("    }")
                if dname == "Call" { o.append("") }
            }
            o.append("}")
        }
        return o.joined(separator: "\n") + "\n"
    }
}
