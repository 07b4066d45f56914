import Foundation
import ModelPortFuzzTargets
import TestSupport
import XCTest

/// Replays every committed fuzz input (seed corpora and the minimised inputs
/// of fixed findings) through the same entry points the fuzzers drive, in the
/// normal build: a finding that comes back crashes this test.
final class CorpusReplayTests: XCTestCase {
    /// Tests/Fuzz: `corpus/<target>` (seeds) and `fixed/<target>` (findings fixed since).
    static let fuzzRoot = TestPaths.repoRoot.appendingPathComponent("Tests/Fuzz")

    /// The committed inputs of `target` in `folder`, sorted by name.
    static func inputs(_ folder: String, _ target: FuzzTarget) -> [URL] {
        let directory = fuzzRoot.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
    }

    func testEveryTargetHasSeeds() {
        for target in FuzzTarget.allCases {
            XCTAssertFalse(Self.inputs("corpus", target).isEmpty, "no seed corpus for \(target.rawValue) in \(Self.fuzzRoot.path)/corpus")
        }
    }

    /// The seeds are valid files that every reader accepts, so the fuzzers
    /// start from inputs that reach deep into the parsers (and a reader that
    /// starts refusing a valid file shows up here).
    func testSeedsAreAccepted() throws {
        for target in FuzzTarget.allCases {
            for url in Self.inputs("corpus", target) {
                let error = target.run([UInt8](try Data(contentsOf: url)))
                XCTAssertNil(error, "\(target.rawValue) seed \(url.lastPathComponent) was refused: \(error.map { "\($0)" } ?? "")")
            }
        }
    }

    /// Inputs that once crashed a reader now get an error naming the file,
    /// not a crash (before its fix, each of them ends this test process).
    func testFixedFindingsAreRejectedCleanly() throws {
        var count = 0
        for target in FuzzTarget.allCases {
            for url in Self.inputs("fixed", target) {
                count += 1
                guard let error = target.run([UInt8](try Data(contentsOf: url))) else {
                    XCTFail("\(target.rawValue) finding \(url.lastPathComponent) was accepted")
                    continue
                }
                XCTAssertNil(FuzzTarget.messageProblem(error), "\(target.rawValue) finding \(url.lastPathComponent)")
            }
        }
        XCTAssertGreaterThan(count, 0, "no fixed findings under \(Self.fuzzRoot.path)/fixed")
    }
}
