import Testing
import ModelPortReports
import ModelPortRuntime

/// `predict`'s classes, top-k and CSV: NaN outputs predict nothing rather
/// than class 0.
@Suite struct PredictedClassesTests {
    let outputs = Tensor(shape: [3, 3], scalars: [0.2, 0.5, 0.3,
                                                  .nan, 0.9, 0.1,
                                                  0.6, 0.1, 0.3])

    @Test func nanSamplesPredictNothing() {
        let classes = PredictedClasses(outputs)
        #expect(classes.values == [1, nil, 0])
        #expect(classes.unpredicted == [1])
        #expect(classes.texts == ["1", "NaN", "0"])
    }

    @Test func rankedIsMostProbableFirst() {
        let ranked = PredictedClasses(outputs).ranked(top: 2)
        #expect(ranked[0].map(\.class) == [1, 2] && ranked[2].map(\.class) == [0, 2])
        #expect(ranked[0][0].probability == outputs.sample(0)[outputs.sample(0).startIndex + 1])
        #expect(PredictedClasses(outputs).ranked(top: 10)[0].count == 3)
    }

    @Test func csvQuotesNamesAndMarksNaN() {
        let lines = PredictedClasses(outputs).csv(names: ["a.png", "b,\"c\".png", "d.png"]).split(separator: "\n").map(String.init)
        #expect(lines[0] == "file,predicted,confidence,p0,p1,p2")
        #expect(lines[1].hasPrefix("a.png,1,0.500000,"))
        #expect(lines[2].hasPrefix("\"b,\"\"c\"\".png\",NaN,nan,"))
        #expect(lines.count == 4)
    }
}
