// SPDX-License-Identifier: GPL-2.0
import Logging
import Testing
@testable import drivermgrd

@Suite struct JournaldTests {
    @Test func metadataBecomesFieldsOfTheirOwn() {
        var h = JournaldLogHandler(identifier: "drivermgrd")
        h[metadataKey: "DRIVER"] = "ens1371"
        let f = h.fields(level: .error, message: "failure: u-driver killed by signal 9 (SIGKILL)",
                         metadata: ["MESSAGE_ID": "\(JournalMessageID.failure)", "FAILURE_KIND": "crash", "SIGNAL": "SIGKILL"],
                         file: "drivermgrd/DriverInstance.swift", function: "failure", line: 42)
        #expect(f.contains("MESSAGE=failure: u-driver killed by signal 9 (SIGKILL)"))
        #expect(f.contains("PRIORITY=3"))
        #expect(f.contains("SYSLOG_IDENTIFIER=drivermgrd"))
        #expect(f.contains("MESSAGE_ID=9dbd74484c514218a1b66bb15387f923"))
        #expect(f.contains("DRIVER=ens1371") && f.contains("FAILURE_KIND=crash") && f.contains("SIGNAL=SIGKILL"))
        #expect(f.contains("CODE_LINE=42"))
    }

    @Test func aUDriversStderrLineCarriesItsPriority() {
        #expect(JournaldLogHandler.stderrLine("<6> (null) eth0: link up") == (.info, "(null) eth0: link up"))
        #expect(JournaldLogHandler.stderrLine("<3>8139cp: probe failed") == (.error, "8139cp: probe failed"))
        #expect(JournaldLogHandler.stderrLine("<0>panic") == (.critical, "panic"))
        #expect(JournaldLogHandler.stderrLine("<7>x") == (.debug, "x"))
        #expect(JournaldLogHandler.stderrLine("<4>") == (.warning, ""))
        // No level, or no syslog one: the whole line, a notice.
        #expect(JournaldLogHandler.stderrLine("plain") == (.notice, "plain"))
        #expect(JournaldLogHandler.stderrLine("<8>not a level") == (.notice, "<8>not a level"))
        #expect(JournaldLogHandler.stderrLine("<6") == (.notice, "<6"))
        #expect(JournaldLogHandler.stderrLine("") == (.notice, ""))
    }

    @Test func fieldNamesAreTheJournals() {
        #expect(JournaldLogHandler.fieldName("driver") == "DRIVER")
        #expect(JournaldLogHandler.fieldName("xpc.op") == "XPC_OP")
        #expect(JournaldLogHandler.fieldName("_PID") == "PID", "a leading underscore is the journal's own")
        #expect(JournaldLogHandler.fieldName("9lives") == "LIVES")
        #expect(JournaldLogHandler.fieldName("___") == nil)
        #expect(JournaldLogHandler.fieldName(String(repeating: "A", count: 80))?.count == 64)
    }

    @Test func prioritiesAreSyslogs() {
        #expect(JournaldLogHandler.priority(.debug) == 7)
        #expect(JournaldLogHandler.priority(.info) == 6)
        #expect(JournaldLogHandler.priority(.warning) == 4)
        #expect(JournaldLogHandler.priority(.critical) == 2)
    }

    /// The catalog documents every id the daemon uses, and nothing else.
    @Test func catalogCoversEveryMessageID() throws {
        let path = #filePath.components(separatedBy: "/Tests/")[0] + "/catalog/drivermgrd.catalog"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let ids = text.split(separator: "\n").filter { $0.hasPrefix("-- ") }.map { String($0.dropFirst(3)) }
        #expect(Set(ids) == [JournalMessageID.failure, JournalMessageID.recovery, JournalMessageID.gaveUp, JournalMessageID.adopted,
                             JournalMessageID.escalated, JournalMessageID.readded, JournalMessageID.updated,
                             JournalMessageID.debug])
    }
}
