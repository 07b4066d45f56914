/// The confusion matrix as an SVG heatmap: rows are true classes, columns
/// predicted classes, every cell shows its count; the colour is the count as
/// a fraction of its row (so small classes are as readable as large ones).
public enum ConfusionMatrixChart {
    public static func svg(_ matrix: ConfusionMatrix, classNames: [String], title: String = "Confusion matrix") -> String {
        let n = matrix.classCount
        let longest = Double(classNames.map(\.count).max() ?? 1)
        let cell = 46.0
        let labelSpace = max(30, longest * 7 + 14)
        let left = 40 + labelSpace, top = 56.0
        let bottom = labelSpace + 44
        var svg = SVG(width: left + cell * Double(n) + 30, height: top + cell * Double(n) + bottom)
        svg.text(title, 16, 26, size: 16, weight: "bold")
        for t in 0..<n {
            let support = max(1, matrix.support(t))
            for p in 0..<n {
                let count = matrix.counts[t][p]
                let fraction = Double(count) / Double(support)
                let x = left + Double(p) * cell, y = top + Double(t) * cell
                svg.rect(x, y, cell, cell, fill: color(fraction), stroke: "#ffffff")
                if count > 0 {
                    svg.text(String(count), x + cell / 2, y + cell / 2 + 4, size: count >= 1000 ? 11 : 12, anchor: .middle,
                             fill: fraction > 0.5 ? "#ffffff" : "#1a1a1a", weight: t == p ? "bold" : "normal")
                }
            }
            // Row (true) labels on the left.
            svg.text(classNames[t], left - 8, top + Double(t) * cell + cell / 2 + 4, anchor: .end)
        }
        for p in 0..<n {
            let x = left + Double(p) * cell + cell / 2, y = top + Double(n) * cell + 14
            if longest > 3 {
                svg.text(classNames[p], x + 4, y, anchor: .end, rotate: -45)
            } else {
                svg.text(classNames[p], x, y + 2, anchor: .middle)
            }
        }
        svg.text("Predicted class", left + cell * Double(n) / 2, top + cell * Double(n) + bottom - 12, size: 13, anchor: .middle, weight: "bold")
        svg.text("True class", 18, top + cell * Double(n) / 2, size: 13, anchor: .middle, weight: "bold", rotate: -90)
        return svg.document
    }

    /// White to dark blue.
    static func color(_ fraction: Double) -> String {
        let t = max(0, min(1, fraction)).squareRoot()
        let (r, g, b) = (247 - (247 - 8) * t, 251 - (251 - 48) * t, 255 - (255 - 107) * t)
        return "rgb(\(Int(r)),\(Int(g)),\(Int(b)))"
    }
}
