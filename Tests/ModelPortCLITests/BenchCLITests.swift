import Foundation
import ModelPortKeras
import Testing
import TestSupport

/// `modelport bench`: its JSON, the per-layer profile and the BLAS choice.
struct BenchCLITests {
    let model = "fixtures/mnist_digit_model.h5"
    let quick = ["--batch", "4", "--images", "8", "--repetitions", "1", "--runs", "5"]

    func json(_ r: CommandResult) throws -> [String: Any] {
        try #require(r.status == 0, "\(r.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    @Test func jsonHasTheFiguresAndOneEntryPerLayer() throws {
        let object = try json(try TestPaths.runModelPort(["bench", model, "--json", "--layers"] + quick))
        let rate = try #require(object["images_per_second"] as? Double)
        let p50 = try #require(object["latency_ms_p50"] as? Double)
        let p99 = try #require(object["latency_ms_p99"] as? Double)
        #expect(rate > 0 && p50 > 0 && p99 >= p50)
        #expect(object["batch_size"] as? Int == 4)
        let layers = try #require(object["layers"] as? [[String: Any]])
        let summary = try ModelLoader.load(TestPaths.fixture("mnist_digit_model.h5")).model.summary
        #expect(layers.map { $0["name"] as? String } == summary.map(\.name))
        #expect(layers.allSatisfy { ($0["microseconds_per_sample"] as? Double ?? -1) >= 0 })
        #expect((object["blas"] as? String)?.contains("kernels") == true, "\(object["blas"] ?? "none")")
    }

    /// ModelPort chooses OpenBLAS's kernels itself: an OPENBLAS_CORETYPE
    /// forcing AVX2 is set aside on an AVX-512 CPU; MODELPORT_BLAS_CORETYPE wins.
    @Test func blasKernelChoice() throws {
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("flags") }.map { Set($0.split(separator: " ").map(String.init)) } ?? []
        let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)

        let forced = try json(try TestPaths.runModelPort(["bench", model, "--json"] + quick,
                                                         environment: ["MODELPORT_BLAS_CORETYPE": "Haswell"]))
        let forcedBLAS = try #require(forced["blas"] as? String)
        #expect(forcedBLAS.contains("Haswell kernels") && forcedBLAS.contains("MODELPORT_BLAS_CORETYPE=Haswell"), "\(forcedBLAS)")

        var environment = ["OPENBLAS_CORETYPE": "Haswell"]
        environment["MODELPORT_BLAS_CORETYPE"] = ""
        let chosen = try json(try TestPaths.runModelPort(["bench", model, "--json"] + quick, environment: environment))
        let chosenBLAS = try #require(chosen["blas"] as? String)
        if avx512 {
            #expect(!chosenBLAS.contains("Haswell kernels") && chosenBLAS.contains("OPENBLAS_CORETYPE=Haswell ignored"), "\(chosenBLAS)")
        } else {
            #expect(chosenBLAS.contains("kernels"), "\(chosenBLAS)")
        }
    }

    @Test func badArgumentsAreClearErrors() throws {
        let r = try TestPaths.runModelPort(["bench", model, "--batch", "0"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--batch must be at least 1"), "\(r.stderr)")
        let functional = try TestPaths.runModelPort(["bench", "fixtures/coverage/cov_merge.h5", "--layers"])
        #expect(functional.status != 0)
        #expect(functional.stderr.contains("--layers needs a Sequential model"), "\(functional.stderr)")
        let missing = try TestPaths.runModelPort(["bench", "no/such/model.h5"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no/such/model.h5"), "\(missing.stderr)")
    }
}
