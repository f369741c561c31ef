import Foundation
import Testing

@testable import Sandbox

@Suite struct LedgerTests {
    @Test func lostIsAcknowledgedAndNeverDeliveredAndTwiceIsPerPhase() {
        let origin = ContinuousClock.now
        let ledger = Ledger(origin: origin)
        let where_ = Ledger.Acknowledgement(site: "dc-a", topic: "orders", partition: 0, offset: 0)
        for number in 1...3 { ledger.acknowledged(OrderProducer.key(number), where_) }
        ledger.delivered(OrderProducer.key(1), recovered: false, at: origin)
        ledger.enter(phase: "unplanned")
        ledger.delivered(OrderProducer.key(1), recovered: false, at: origin + .seconds(1))
        ledger.delivered(OrderProducer.key(2), recovered: true, at: origin + .seconds(1))
        let totals = ledger.totals
        #expect(totals.acknowledged == 3)
        #expect(totals.lost == 1)
        #expect(totals.duplicated == 1)
        #expect(totals.recovered == 1)
        #expect(ledger.duplicatesByPhase == ["unplanned": 1])
        #expect(Array(ledger.lostKeys(limit: 5).keys) == [OrderProducer.key(3)])
        #expect(ledger.deliveries(inSecondBefore: origin + .seconds(2)) == 2)
        #expect(ledger.deliveries(inSecondBefore: origin + .seconds(1)) == 1)
    }

    @Test func theDeliveredTwiceSampleKeepsAFewKeysOfEveryPhase() {
        let ledger = Ledger(origin: .now)
        let where_ = Ledger.Acknowledgement(site: "dc-a", topic: "orders", partition: 1, offset: 7)
        ledger.enter(phase: "unplanned")
        for number in 1...30 {
            ledger.delivered(OrderProducer.key(number), recovered: false)
            ledger.delivered(OrderProducer.key(number), recovered: false)
        }
        ledger.acknowledged(OrderProducer.key(40), where_)
        ledger.delivered(OrderProducer.key(40), recovered: true)
        ledger.enter(phase: "planned")
        ledger.delivered(OrderProducer.key(40), recovered: false)
        let sample = ledger.deliveredTwice(limitPerPhase: 5)
        #expect(sample.count == 6)
        #expect(sample.values.filter { $0.extraPhases == ["unplanned"] }.count == 5)
        #expect(sample[OrderProducer.key(40)] == Ledger.DeliveredTwice(extraPhases: ["planned"], recovered: true, acknowledgement: where_))
    }
}
