import Foundation

/// A per-epoch line chart in SVG (training and validation curves).
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public let name: String
        public let values: [Double]
        public let color: String
        public let dashed: Bool
        public init(name: String, values: [Double], color: String, dashed: Bool = false) {
            self.name = name; self.values = values; self.color = color; self.dashed = dashed
        }
    }

    public var title: String
    public var yLabel: String
    public var series: [Series]
    public var width = 520.0
    public var height = 320.0

    public init(title: String, yLabel: String, series: [Series]) {
        self.title = title; self.yLabel = yLabel; self.series = series
    }

    public var svg: String {
        var svg = SVG(width: width, height: height)
        let left = 64.0, right = 20.0, top = 44.0, bottom = 48.0
        let plotW = width - left - right, plotH = height - top - bottom
        svg.text(title, 16, 26, size: 16, weight: "bold")
        let values = series.flatMap(\.values).filter(\.isFinite)
        let epochs = max(1, series.map(\.values.count).max() ?? 1)
        guard var lo = values.min(), var hi = values.max() else {
            svg.text("no data", width / 2, height / 2, anchor: .middle)
            return svg.document
        }
        if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
        let ticks = Self.niceTicks(lo, hi)
        lo = min(lo, ticks.first ?? lo); hi = max(hi, ticks.last ?? hi)
        let xOf = { (e: Int) -> Double in left + (epochs == 1 ? plotW / 2 : plotW * Double(e) / Double(epochs - 1)) }
        let yOf = { (v: Double) -> Double in top + plotH * (1 - (v - lo) / (hi - lo)) }
        let decimals = max(0, -Int(floor(log10(max(1e-12, (ticks.count > 1 ? ticks[1] - ticks[0] : 1))))))
        for t in ticks {
            svg.line(left, yOf(t), left + plotW, yOf(t), stroke: "#e3e3e3")
            svg.text(String(format: "%.\(decimals)f", t), left - 6, yOf(t) + 4, size: 11, anchor: .end, fill: "#555")
        }
        let step = max(1, Int((Double(epochs) / 10).rounded(.up)))
        for e in stride(from: 0, to: epochs, by: step) {
            svg.line(xOf(e), top + plotH, xOf(e), top + plotH + 4, stroke: "#888")
            svg.text(String(e + 1), xOf(e), top + plotH + 17, size: 11, anchor: .middle, fill: "#555")
        }
        svg.line(left, top + plotH, left + plotW, top + plotH, stroke: "#888")
        svg.line(left, top, left, top + plotH, stroke: "#888")
        svg.text("epoch", left + plotW / 2, height - 10, size: 12, anchor: .middle)
        svg.text(yLabel, 16, top + plotH / 2, size: 12, anchor: .middle, rotate: -90)
        for s in series where !s.values.isEmpty {
            let points = s.values.enumerated().filter { $0.element.isFinite }.map { (xOf($0.offset), yOf($0.element)) }
            svg.polyline(points, stroke: s.color, dash: s.dashed ? "6 4" : nil)
            for p in points { svg.circle(p.0, p.1, r: 3, fill: s.color) }
        }
        // Legend on the title line, right-aligned, clear of the data.
        var x = width - right - Double(series.reduce(0) { $0 + 42 + $1.name.count * 7 })
        for s in series {
            svg.line(x, 22, x + 24, 22, stroke: s.color, width: 2, dash: s.dashed ? "6 4" : nil)
            svg.text(s.name, x + 30, 26, size: 12)
            x += 42 + Double(s.name.count * 7)
        }
        return svg.document
    }

    /// About five round tick values covering [lo, hi].
    static func niceTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let raw = (hi - lo) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var t = floor(lo / step) * step
        var out: [Double] = []
        while t <= hi + step * 0.5 && out.count < 20 {
            out.append(t)
            t += step
        }
        return out
    }
}
