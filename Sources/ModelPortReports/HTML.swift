import Foundation

/// The report page: plain HTML with inline CSS, no scripts, no external files.
enum HTML {
    static func escape(_ s: String) -> String { SVG.escape(s) }

    static func page(title: String, details: [(String, String)], sections: [String]) -> String {
        let detailRows = details.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined()
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(escape(title))</title>
        <style>
          body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; margin: 24px auto; max-width: 1100px; padding: 0 16px; }
          h1 { font-size: 24px; margin-bottom: 4px; }
          h2 { font-size: 19px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
          table { border-collapse: collapse; font-size: 14px; }
          th, td { padding: 4px 12px; text-align: right; }
          th:first-child, td:first-child { text-align: left; }
          table.report tr:nth-child(even) td { background: #f6f8fa; }
          table.report thead th { border-bottom: 2px solid #bbb; }
          table.report tr.total td { border-top: 1px solid #bbb; font-weight: bold; }
          table.details th { text-align: left; color: #555; font-weight: normal; padding-left: 0; }
          table.details td { text-align: left; }
          figure { display: inline-block; margin: 8px 16px 8px 0; vertical-align: top; }
          .note { color: #666; font-size: 13px; margin: 4px 0 8px; }
          .big { font-size: 28px; font-weight: bold; }
          .stats td { padding-right: 32px; text-align: left; }
          .stats .label { color: #666; font-size: 13px; }
          footer { margin-top: 40px; color: #999; font-size: 12px; }
        </style>
        </head>
        <body>
        <h1>\(escape(title))</h1>
        <table class="details">\(detailRows)</table>
        \(sections.joined(separator: "\n"))
        <footer>Written by ModelPort.</footer>
        </body>
        </html>

        """
    }

    static func section(_ heading: String, _ content: String, note: String? = nil) -> String {
        "<section><h2>\(escape(heading))</h2>" + (note.map { "<p class=\"note\">\(escape($0))</p>" } ?? "") + content + "</section>"
    }

    static func summary(_ e: Evaluation) -> String {
        let wrong = e.count - e.confusion.correct
        return """
        <table class="stats"><tr>
        <td><div class="label">accuracy</div><div class="big">\(String(format: "%.2f%%", e.accuracy * 100))</div></td>
        <td><div class="label">loss (categorical cross-entropy)</div><div class="big">\(String(format: "%.4f", e.loss))</div></td>
        <td><div class="label">samples</div><div class="big">\(e.count)</div></td>
        <td><div class="label">wrong</div><div class="big">\(wrong)</div></td>
        </tr></table>
        """
    }

    static func table(_ r: ClassificationReport) -> String {
        let f = { (x: Double) in String(format: "%.4f", x) }
        var rows = r.classes.map { "<tr><td>\(escape($0.name))</td><td>\(f($0.precision))</td><td>\(f($0.recall))</td><td>\(f($0.f1))</td><td>\($0.support)</td></tr>" }
        rows.append("<tr class=\"total\"><td>accuracy</td><td></td><td></td><td>\(f(r.accuracy))</td><td>\(r.support)</td></tr>")
        for a in [r.macroAverage, r.weightedAverage] {
            rows.append("<tr><td>\(a.name)</td><td>\(f(a.precision))</td><td>\(f(a.recall))</td><td>\(f(a.f1))</td><td>\(a.support)</td></tr>")
        }
        return "<table class=\"report\"><thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr></thead><tbody>"
            + rows.joined() + "</tbody></table>"
    }
}
