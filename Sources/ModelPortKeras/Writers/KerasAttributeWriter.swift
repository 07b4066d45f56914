import Foundation
import ModelPortHDF5

/// Writes string-list attributes the way Keras does (`save_attributes_to_hdf5_group`).
enum KerasAttributeWriter {
    /// HDF5's object-header limit that Keras chunks attributes under.
    static let headerLimit = 64_512

    /// Writes `strings` as attribute `name`, or — when numpy would store them
    /// in more than 64,512 bytes (count x longest) — as `name0`, `name1`, ...
    /// split as `numpy.array_split` splits them. An empty list is written as
    /// an empty float64 array, as h5py writes `[]`.
    static func writeStrings(_ object: HDF5Object, _ name: String, _ strings: [String]) throws {
        if strings.isEmpty {
            try object.writeAttribute(name, values: [Double](), shape: [0])
            return
        }
        let chunks = split(strings)
        if chunks.count == 1 {
            try object.writeAttribute(name, strings: strings)
        } else {
            for (k, chunk) in chunks.enumerated() { try object.writeAttribute("\(name)\(k)", strings: chunk) }
        }
    }

    /// The fewest `array_split` chunks whose fixed-width size fits the limit.
    static func split(_ strings: [String]) -> [[String]] {
        let width = strings.map { $0.utf8.count }.max() ?? 0
        var k = 1
        while true {
            let base = strings.count / k, extra = strings.count % k
            // array_split gives the first `extra` chunks one more element.
            let largest = base + (extra > 0 ? 1 : 0)
            if largest * width <= headerLimit || largest <= 1 {
                var chunks: [[String]] = []
                var start = 0
                for i in 0..<k {
                    let size = base + (i < extra ? 1 : 0)
                    chunks.append(Array(strings[start..<(start + size)]))
                    start += size
                }
                return chunks
            }
            k += 1
        }
    }

    /// JSON text as Keras's `json.dumps` would accept it back.
    static func json(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
