import Testing
import ModelPortRuntime
import TestSupport

/// Learning-rate schedules against Keras 3's values at steps 0...11
/// (fixtures/training/schedules.h5).
@Suite struct ScheduleTests {
    static let cases: [(String, LearningRateSchedule)] = [
        ("exponential", .exponentialDecay(initial: 0.1, decaySteps: 3, decayRate: 0.5)),
        ("exponential_staircase", .exponentialDecay(initial: 0.1, decaySteps: 3, decayRate: 0.5, staircase: true)),
        ("cosine", .cosineDecay(initial: 0.1, decaySteps: 5, alpha: 0.1)),
        ("cosine_warmup", .cosineDecay(initial: 0, decaySteps: 5, warmupTarget: 0.1, warmupSteps: 3)),
    ]

    @Test(arguments: cases.map(\.0))
    func valuesMatchKeras(name: String) throws {
        let schedule = Self.cases.first { $0.0 == name }!.1
        let expected = try TrainingFixture("schedules.h5").tensor(name).scalars
        #expect(expected.count == 12)
        for (step, value) in expected.enumerated() {
            #expect(abs(schedule.value(at: step) - value) < 1e-7, "\(name) at step \(step)")
        }
    }
}
