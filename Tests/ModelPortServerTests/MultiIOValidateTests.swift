import Foundation
import ModelPortFormats
@testable import ModelPortServer
import ModelPortValidation
import Testing
import TestSupport

/// The workbench's validation of a model with several outputs, as `modelport
/// validate` (fixtures/multiio/, made by tools/make_multiio_fixtures.py).
struct MultiIOValidateTests {
    static func path(_ name: String) -> String { TestPaths.fixtures.appendingPathComponent("multiio/" + name).path }

    @Test func everyOutputIsReportedByName() throws {
        let reference = try ReferenceData.read(Self.path("two_heads.reference.h5"))
        let good = try ModelServer.validate(try AnyModelFile.load(Self.path("two_heads.h5")), reference: reference)
        #expect(good["passed"] as? Bool == true)
        #expect((good["outputs"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["class", "value"])
        let wrong = try ModelServer.validate(try AnyModelFile.load(Self.path("two_heads_wrong.h5")), reference: reference)
        #expect(wrong["passed"] as? Bool == false)
        #expect((wrong["outputs"] as? [[String: Any]])?.map { $0["passed"] as? Bool } == [true, false])
    }

    @Test func aReferenceMissingAnInputIsAShapeMismatch() throws {
        let reference = try ReferenceData.read(Self.path("two_heads.reference.h5"))
        #expect {
            try ModelServer.validate(try AnyModelFile.load(Self.path("two_inputs.h5")), reference: reference)
        } throws: { error in
            "\(error)".contains("inputs/image")
        }
    }
}
