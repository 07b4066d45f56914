import Foundation
import TestSupport

struct ImageTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ s: String) { description = s }
}

/// CRC-32 (the PNG chunk checksum), to build hostile PNG headers.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }

/// The committed test images and their labels (fixtures/images/labels.csv).
func committedTestImages() throws -> [(path: String, label: Int)] {
    let dir = TestPaths.fixtures.appendingPathComponent("images")
    let csv = try String(contentsOf: dir.appendingPathComponent("labels.csv"), encoding: .utf8)
    return csv.split(separator: "\n").dropFirst().map { line in
        let parts = line.split(separator: ",")
        return (dir.appendingPathComponent(String(parts[0])).path, Int(parts[1])!)
    }
}
