import Foundation
import ModelPortKeras
import ModelPortRuntime
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
        // Each convolution names the algorithm it ran, the other layers none.
        let algorithms = layers.map { $0["algorithm"] as? String }
        let expected: [String?] = summary.map { $0.typeName == "Conv2D" ? "" : nil }
        #expect(algorithms.map { $0 == nil } == expected.map { $0 == nil }, "\(algorithms)")
        #expect(algorithms.compactMap { $0 }.allSatisfy { ["direct", "winograd", "im2col+sgemm"].contains($0) }, "\(algorithms)")
    }

    /// --kernels picks the family (and the JSON says which); one the CPU
    /// cannot run is refused by name, before any measuring.
    @Test func kernelChoice() throws {
        let blas = try json(try TestPaths.runModelPort(["bench", model, "--json", "--layers", "--kernels", "blas"] + quick))
        #expect(blas["kernels"] as? String == "OpenBLAS")
        let layers = try #require(blas["layers"] as? [[String: Any]])
        #expect(layers.compactMap { $0["algorithm"] as? String } == ["im2col+sgemm", "im2col+sgemm", "im2col+sgemm"])

        let auto = try json(try TestPaths.runModelPort(["bench", model, "--json", "--layers"] + quick))
        let autoLayers = try #require(auto["layers"] as? [[String: Any]])
        if CPUKernels.supports(.avx2) {
            let name = CPUKernels.supports(.avx512) ? "AVX-512" : "AVX2+FMA"
            #expect(auto["kernels"] as? String == name)
            // The tutorial CNN: a one-channel first convolution, a wide 3x3 one, a 3x3-output one.
            #expect(autoLayers.compactMap { $0["algorithm"] as? String } == ["direct", "winograd", "direct"])
            let viaEnvironment = try json(try TestPaths.runModelPort(["bench", model, "--json"] + quick,
                                                                     environment: ["MODELPORT_KERNELS": "blas"]))
            #expect(viaEnvironment["kernels"] as? String == "OpenBLAS")
        } else {
            #expect(auto["kernels"] as? String == "OpenBLAS")
        }
        if !CPUKernels.supports(.avx512) {
            let refused = try TestPaths.runModelPort(["bench", model, "--kernels", "avx512"] + quick)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("cannot run ModelPort's avx512 kernels"), "\(refused.stderr)")
        }
        let bad = try TestPaths.runModelPort(["bench", model, "--kernels", "neon"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("'neon' is invalid for '--kernels") && bad.stderr.contains("'avx2'"), "\(bad.stderr)")
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
