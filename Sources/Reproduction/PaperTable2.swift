import Foundation
import Reports

/// Claim 6 beside Table 2: per cell our value in the paper's std units, the orderings' Kendall τ, and the
/// seeds each Adai(W)-vs-baseline gap of the paper would need with the paper's own stds.
public struct Table2Cell: Codable, Equatable {
    public let model: String, optimizer: String
    public let ours: Double, paper: Double, paperStd: Double
    /// (ours − paper) / paper std; meaningful at the paper scale only.
    public var differenceInPaperStd: Double { paperStd > 0 ? (ours - paper) / paperStd : .nan }
}

public struct PaperGapPower: Codable, Equatable {
    public let model: String, a: String, b: String
    public let gap: Double, combinedStd: Double
    /// Seeds per optimizer the gap needs (95% confidence, 80% power), treating the two runs of a seed as independent.
    public let seedsNeeded: Int?
}

public enum PaperTable2 {
    /// Gaps of Adai and AdaiW to every baseline in Table 2, with the seeds each needs.
    public static func power(_ table: PaperTable) -> [PaperGapPower] {
        var out: [PaperGapPower] = []
        let models = Array(Set(table.rows.map { $0.model })).sorted()
        for model in models {
            let rows = table.rows.filter { $0.model == model }
            for a in ["adai", "adaiw"] {
                guard let ra = rows.first(where: { $0.optimizer == a }) else { continue }
                for rb in rows where !rb.optimizer.hasPrefix("adai") {
                    let sd = (ra.std * ra.std + rb.std * rb.std).squareRoot()
                    let gap = rb.mean - ra.mean
                    out.append(PaperGapPower(model: model, a: a, b: rb.optimizer, gap: gap, combinedStd: sd,
                                             seedsNeeded: gap > 0 ? pairsNeededFor(effect: gap, sd: sd) : nil))
                }
            }
        }
        return out
    }

    /// Our mean per (model, optimizer) against the paper's cells, and τ per model between the two orderings.
    public static func cells(ours: [String: [String: Double]], table: PaperTable) -> (cells: [Table2Cell], tau: [String: Double]) {
        var cells: [Table2Cell] = [], tau: [String: Double] = [:]
        for model in ours.keys.sorted() {
            var x: [Double] = [], y: [Double] = []
            for (optimizer, value) in ours[model]!.sorted(by: { $0.key < $1.key }) {
                guard let row = table.rows.first(where: { $0.model == model && $0.optimizer == optimizer }) else { continue }
                cells.append(Table2Cell(model: model, optimizer: optimizer, ours: value, paper: row.mean, paperStd: row.std))
                x.append(value); y.append(row.mean)
            }
            if x.count >= 2 { tau[model] = kendallTau(x, y) }
        }
        return (cells, tau)
    }
}
