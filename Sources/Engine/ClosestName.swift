/// "Did you mean": the one place that decides which known name a mistyped one most likely meant.
public enum ClosestName {
    /// The candidate closest to `word` by edit distance (letters compared without case; an insertion, a deletion,
    /// a substitution or a swap of neighbours is one edit), if it is close enough to be a likely typo: at most
    /// a third of the longer name's letters, and at least one. Ties go to the earlier candidate. Callers word
    /// the suggestion themselves.
    public static func of(_ word: String, in candidates: [String]) -> String? {
        let target = Array(word.lowercased())
        let scored = candidates.map { ($0, distance(target, Array($0.lowercased()))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(1, max(target.count, best.0.count) / 3) ? best.0 : nil
    }

    /// Optimal string alignment distance: Levenshtein's edits plus the swap of two neighbouring letters.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
