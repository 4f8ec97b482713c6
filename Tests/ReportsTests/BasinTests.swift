import Foundation
import Plot
import XCTest
@testable import Reports

/// Figure 5's basin (docs/claims.md, claim 11): the statistic on a hand-made grid, `collect`'s report of it, and the
/// heatmap's outline of its cells.
final class BasinTests: XCTestCase {
    private var results: FabricatedResults!

    override func setUpWithError() throws { results = try FabricatedResults() }
    override func tearDownWithError() throws { results.remove() }

    /// A grid whose answer is known: 3 lrs × 2 weight decays, 2 seeds, a diverged run and a cell at the boundary.
    func testTheBasinOfAHandMadeGrid() {
        let cells = [
            BasinCell(lr: 0.1, weightDecay: 1e-4, values: [1: 6.0, 2: 6.5]),
            BasinCell(lr: 1, weightDecay: 1e-4, values: [1: 4.5, 2: 5.0]),
            BasinCell(lr: 10, weightDecay: 1e-4, values: [1: 9.0, 2: .infinity]),   // seed 2 diverged
            BasinCell(lr: 0.1, weightDecay: 5e-4, values: [1: 5.5, 2: 5.5]),
            BasinCell(lr: 1, weightDecay: 5e-4, values: [1: 4.0, 2: 4.5]),
            BasinCell(lr: 10, weightDecay: 5e-4, values: [1: 5.0, 2: 5.5]),           // mean 5.25 = best 4.25 + 1: inside
        ]
        let b = Basin.of(optimizer: "adai", cells: cells.reversed(), distance: 1)
        XCTAssertEqual(b.cells, cells, "sorted by weight decay, then lr")
        // Means 6.25, 4.75, ∞, 5.5, 4.25, 5.25: within 1 of 4.25 are 4.75, 4.25 and 5.25.
        XCTAssertEqual(b.inBasin, [false, true, false, false, true, true])
        XCTAssertEqual(b.size, 3)
        XCTAssertEqual(b.best, cells[4])
        // Seed 1: best 4.0, within 1: 4.5, 4.0, 5.0. Seed 2: best 4.5, within 1: 5.0, 5.5, 4.5, 5.5.
        XCTAssertEqual(b.perSeed, [1: 3, 2: 4])
        XCTAssertEqual(b.incomplete, [])
        XCTAssertEqual(b.line, "adai: 3 of 6 cells within 1 of the best cell (lr 1, wd 0.0005: 4.25, mean of 2); per seed 1: 3, 2: 4")
        // A wider distance takes more cells; no finite value leaves the basin empty.
        XCTAssertEqual(Basin.of(optimizer: "adai", cells: cells, distance: 2).size, 5)
        XCTAssertEqual(Basin.members([.nan, .infinity], distance: 1), [false, false])
        XCTAssertEqual(Basin.members([3, .nan, 3.5, 4.01], distance: 1), [true, false, true, false])
    }

    /// The grid above as runs, with a second optimizer one of whose runs failed: `collect`'s basins and basin.csv.
    func testCollectReportsEachOptimizersBasin() throws {
        let experiment = try basinExperiment()
        let basins = try Collect.basins(experiment: experiment, distance: 1)
        XCTAssertEqual(basins.map(\.optimizer), ["adai", "sgdm"])
        XCTAssertEqual(basins[0].size, 3)
        XCTAssertEqual(basins[0].perSeed, [1: 3, 2: 4])
        // sgdm: lr 1's seed 2 failed, so only seed 1 has every cell; that cell lacks a seed.
        XCTAssertEqual(basins[1].perSeed, [1: 1])
        XCTAssertEqual(basins[1].incomplete.map(\.lr), [1])
        XCTAssertEqual(Basin.csv(basins), """
            optimizer,cells,basin_cells,distance,best_lr,best_weight_decay,best_mean,seeds_complete,basin_cells_by_seed,cells_lacking_a_seed
            adai,6,3,1,1,0.0005,4.25,2,1:3 2:4,0
            sgdm,2,1,1,0.1,0.0005,5.125,1,1:1,1

            """)
        // A planned cell with no run at all lacks every seed.
        let planned = try Basin.of(runs: try RunLoader.load(experiment: experiment), distance: 1,
                                   expected: [Setting(optimizer: "sgdm", lr: 0.01, weightDecay: 5e-4)])
        XCTAssertEqual(planned[1].cells.count, 3)
        XCTAssertEqual(planned[1].perSeed, [:], "no seed has every cell")
    }

    /// `plot heatmap --basin`: the cells it outlines are the basin of the grid drawn; the PNG is kept in
    /// $REPORTS_TESTS_KEEP when set, to look at.
    func testTheHeatmapOutlinesTheBasinCells() throws {
        let experiment = try basinExperiment()
        let map = try Plots.heatmap(experiment: experiment, optimizer: "adai", basinDistance: 1)
        XCTAssertEqual(map.columnLabels, ["0.1", "1", "10"])
        XCTAssertEqual(map.rowLabels, ["1e-4", "5e-4"])
        XCTAssertEqual(map.marked, [[false, true, false], [false, true, true]])
        XCTAssertEqual(map.markNote, "outlined: the basin, 3 of 6 cells within 1 of the lowest final value")
        let layout = map.layout()
        let inset = { (b: Box) in Box(x: b.x + 2, y: b.y + 2, width: b.width - 4, height: b.height - 4) }
        XCTAssertEqual(layout.outlines, [inset(layout.cells[0][1]), inset(layout.cells[1][1]), inset(layout.cells[1][2])])
        XCTAssertTrue(layout.figure.texts.contains { $0.text == map.markNote }, "the figure says what the outline means")
        let path = results.root.appendingPathComponent("heatmap-basin.png").path
        try map.figure().write(to: path)
        if let keep = ProcessInfo.processInfo.environment["REPORTS_TESTS_KEEP"] { try map.figure().write(to: keep + "/heatmap-basin.png") }
        XCTAssertEqual(map.figure().layoutProblems(), [])
        let image = try Raster.readPNG(from: path)
        XCTAssertTrue(image.colors.contains(.white), "the outline on the dark cells of the basin")
        // A half-decade grid is labelled with three significant digits, not with rounded neighbours.
        XCTAssertEqual([1.58114e-4, 5e-5, 0.00158114, 0.0316228, 3.16228, 0.1].map(Plots.gridLabel),
                       ["1.58e-4", "5e-5", "0.00158", "0.0316", "3.16", "0.1"])
        // Without --basin nothing is outlined; a negative distance is refused.
        XCTAssertEqual(try Plots.heatmap(experiment: experiment, optimizer: "adai").layout().outlines, [])
        XCTAssertThrowsError(try Plots.heatmap(experiment: experiment, optimizer: "adai", basinDistance: -1)) {
            XCTAssertEqual("\($0)", "the basin distance must be a number ≥ 0 in the metric's units (e.g. 1 for 1 percentage point of test error), got -1.0")
        }
    }

    /// adai over lr {0.1, 1, 10} × wd {1e-4, 5e-4} on seeds 1 and 2 (the hand-made grid; seed 2 of lr 10, wd 1e-4
    /// diverged); sgdm at lr 0.1 and 1 (wd 5e-4), seed 2 of lr 1 failed.
    private func basinExperiment() throws -> String {
        let finals: [(Double, Double, Int, Double)] = [
            (0.1, 1e-4, 1, 6.0), (0.1, 1e-4, 2, 6.5), (1, 1e-4, 1, 4.5), (1, 1e-4, 2, 5.0), (10, 1e-4, 1, 9.0),
            (0.1, 5e-4, 1, 5.5), (0.1, 5e-4, 2, 5.5), (1, 5e-4, 1, 4.0), (1, 5e-4, 2, 4.5), (10, 5e-4, 1, 5.0), (10, 5e-4, 2, 5.5),
        ]
        for (lr, wd, seed, final) in finals {
            try results.run(experiment: "basin", optimizer: "adai", lr: lr, wd: wd, seed: seed, testErrors: [20, final + 1, final])
        }
        try results.run(experiment: "basin", optimizer: "adai", lr: 10, wd: 1e-4, seed: 2, testErrors: [20, 90], epochsPlanned: 3, status: "diverged")
        try results.run(experiment: "basin", optimizer: "sgdm", lr: 0.1, wd: 5e-4, seed: 1, testErrors: [20, 5.0])
        try results.run(experiment: "basin", optimizer: "sgdm", lr: 0.1, wd: 5e-4, seed: 2, testErrors: [20, 5.25])
        try results.run(experiment: "basin", optimizer: "sgdm", lr: 1, wd: 5e-4, seed: 1, testErrors: [20, 7.0])
        try results.run(experiment: "basin", optimizer: "sgdm", lr: 1, wd: 5e-4, seed: 2, testErrors: [20], epochsPlanned: 2, status: "failed")
        return results.root.appendingPathComponent("basin").path
    }
}
