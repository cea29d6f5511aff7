// SPDX-License-Identifier: GPL-2.0
import Testing
import XPC
@testable import drvctl

@Suite struct FaultNamesTests {
    /// drvctl's help lists exactly the faults drvxpc.h defines, in order.
    @Test func helpListsEveryFaultOfTheWireProtocol() {
        #expect(XPCFaultNames.all == XPCFault.allCases.map(\.name))
    }
}
