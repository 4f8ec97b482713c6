import CCairo
import enum Engine.AtomicFile
import Foundation

/// An sRGB colour.
public struct RGB: Equatable, Hashable, Sendable {
    public var r, g, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public static let white = RGB(255, 255, 255), black = RGB(0, 0, 0), gray = RGB(128, 128, 128)
    public static let lightGray = RGB(230, 230, 230), missing = RGB(200, 200, 200)

    /// `self` blended over `background` with opacity `alpha` in [0, 1].
    public func blended(over background: RGB, alpha: Double) -> RGB {
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) * alpha + Double(b) * (1 - alpha)).rounded()) }
        return RGB(mix(r, background.r), mix(g, background.g), mix(b, background.b))
    }

    /// Relative luminance in [0, 1] (sRGB weights on the gamma-encoded channels; enough to pick black or white text).
    public var luminance: Double { (0.299 * Double(r) + 0.587 * Double(g) + 0.114 * Double(b)) / 255 }
}

/// The Okabe–Ito palette, distinguishable for the common forms of colour blindness.
public let colorBlindSafePalette: [RGB] = [
    RGB(0, 114, 178), RGB(213, 94, 0), RGB(0, 158, 115), RGB(204, 121, 167),
    RGB(230, 159, 0), RGB(86, 180, 233), RGB(0, 0, 0), RGB(240, 228, 66),
]

/// A rectangle in points, (0, 0) at the top left of the figure.
public struct Box: Equatable, Sendable, CustomStringConvertible {
    public var x, y, width, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) { self.x = x; self.y = y; self.width = width; self.height = height }
    public var right: Double { x + width }
    public var bottom: Double { y + height }
    public func intersects(_ o: Box) -> Bool { x < o.right && o.x < right && y < o.bottom && o.y < bottom }
    /// `o` lies inside `self` (within `tolerance` points).
    public func contains(_ o: Box, tolerance: Double = 1e-6) -> Bool {
        o.x >= x - tolerance && o.y >= y - tolerance && o.right <= right + tolerance && o.bottom <= bottom + tolerance
    }
    public var description: String { String(format: "[%.1f, %.1f, %.1f×%.1f]", x, y, width, height) }
}

/// The typeface of every figure: DejaVu Sans (Debian's fonts-dejavu-core), found through fontconfig.
public struct Font: Equatable, Sendable {
    public var size: Double
    public var bold = false
    public init(size: Double, bold: Bool = false) { self.size = size; self.bold = bold }
    public static let family = "DejaVu Sans"
}

/// Measures text as cairo will draw it (unhinted metrics, so the same at every resolution and in every format).
public enum TextMetrics {
    /// Width of `text` in points.
    public static func width(_ text: String, _ font: Font) -> Double {
        guard !text.isEmpty else { return 0 }
        return withContext(font) { cr in
            var extents = cairo_text_extents_t()
            cairo_text_extents(cr, text, &extents)
            return extents.x_advance
        }
    }

    /// Ascent and descent of the font, in points: a line of text is `ascent + descent` high.
    public static func vertical(_ font: Font) -> (ascent: Double, descent: Double) {
        withContext(font) { cr in
            var extents = cairo_font_extents_t()
            cairo_font_extents(cr, &extents)
            return (extents.ascent, extents.descent)
        }
    }

    public static func lineHeight(_ font: Font) -> Double { let v = vertical(font); return v.ascent + v.descent }

    /// `text` shortened with "…" until it is at most `width` points wide.
    public static func fit(_ text: String, _ font: Font, width: Double) -> String {
        if self.width(text, font) <= width { return text }
        var characters = Array(text)
        while !characters.isEmpty {
            characters.removeLast()
            let candidate = String(characters) + "…"
            if self.width(candidate, font) <= width { return candidate }
        }
        return ""
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var surface: OpaquePointer? = nil
    private static func withContext<T>(_ font: Font, _ body: (OpaquePointer) -> T) -> T {
        lock.lock(); defer { lock.unlock() }
        if surface == nil { surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1) }
        let cr = cairo_create(surface)!
        defer { cairo_destroy(cr) }
        Renderer.setFont(cr, font)
        return body(cr)
    }
}

/// How a text's position is read: `x` is its left edge, centre or right edge; `y` its top, centre or bottom.
public enum HorizontalAnchor: Sendable { case left, center, right }
public enum VerticalAnchor: Sendable { case top, middle, bottom }

/// One piece of text placed by a layout, with the box it occupies (for the layout tests).
public struct PlacedText: Sendable {
    public var text: String
    public var font: Font
    public var color: RGB
    /// The box the text occupies: for `vertical` text the box of the rotated text.
    public var box: Box
    /// Read bottom to top (a y-axis title).
    public var vertical: Bool
    /// What the text is (title, tick label, cell value…), for the layout tests' messages.
    public var role: String
}

/// A figure as a list of drawing operations in points: what the charts lay out and the renderer draws in any format.
public struct Figure: Sendable {
    public enum Operation: Sendable {
        case fillRect(Box, RGB)
        case strokeRect(Box, RGB, width: Double)
        /// A polyline; `dash` is (on, off) lengths in points or nil for solid.
        case polyline([(Double, Double)], RGB, width: Double, dash: (Double, Double)?)
        /// A closed polygon filled with `color` at opacity `alpha`.
        case polygon([(Double, Double)], RGB, alpha: Double)
        case circle(x: Double, y: Double, radius: Double, RGB)
        case text(PlacedText)
        /// Following operations are clipped to the box until `.unclip`.
        case clip(Box)
        case unclip
    }

    /// Size in points (1/72 inch).
    public var width: Double, height: Double
    public private(set) var operations: [Operation] = []
    public init(width: Double, height: Double) { self.width = width; self.height = height }

    public mutating func add(_ operation: Operation) { operations.append(operation) }

    /// Places `text` at (x, y) read through the anchors and returns its box.
    @discardableResult
    public mutating func text(_ text: String, x: Double, y: Double, font: Font, color: RGB = .black,
                              horizontal: HorizontalAnchor = .left, vertical: VerticalAnchor = .top,
                              rotated: Bool = false, role: String) -> Box {
        let w = TextMetrics.width(text, font), h = TextMetrics.lineHeight(font)
        let (bw, bh) = rotated ? (h, w) : (w, h)
        let left = horizontal == .left ? x : horizontal == .center ? x - bw / 2 : x - bw
        let top = vertical == .top ? y : vertical == .middle ? y - bh / 2 : y - bh
        let box = Box(x: left, y: top, width: bw, height: bh)
        add(.text(PlacedText(text: text, font: font, color: color, box: box, vertical: rotated, role: role)))
        return box
    }

    /// Every piece of text in the figure.
    public var texts: [PlacedText] {
        operations.compactMap { if case .text(let t) = $0 { return t } else { return nil } }
    }

    /// The figure's own rectangle.
    public var bounds: Box { Box(x: 0, y: 0, width: width, height: height) }

    /// Problems of the layout: text outside the figure and pairs of overlapping texts (empty when the layout holds).
    public func layoutProblems() -> [String] {
        var problems: [String] = []
        let all = texts.filter { !$0.text.isEmpty }
        for t in all where !bounds.contains(t.box) {
            problems.append("\(t.role) '\(t.text)' \(t.box) runs outside the \(Box(x: 0, y: 0, width: width, height: height))")
        }
        for i in all.indices {
            for j in all.indices where j > i && all[i].box.intersects(all[j].box) {
                problems.append("\(all[i].role) '\(all[i].text)' \(all[i].box) overlaps \(all[j].role) '\(all[j].text)' \(all[j].box)")
            }
        }
        return problems
    }
}

/// The file formats a figure is written in.
public enum ImageFormat: String, CaseIterable, Sendable {
    case png, pdf, svg

    /// The format named by a path's extension (nil for another extension).
    public init?(path: String) { self.init(rawValue: (path as NSString).pathExtension.lowercased()) }
}

/// Errors from writing or reading figures.
public struct PlotError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }

    static func cannotWrite(_ path: String, _ reason: String) -> PlotError {
        PlotError("cannot write \(path): \(reason); check that its directory exists and is writable")
    }

    static func cannotFinish(_ path: String, _ reason: String) -> PlotError { PlotError("cannot finish writing \(path): \(reason)") }
}

/// Writes `path` through Engine's AtomicFile (`produce` writes the temporary file it is given), its failures
/// in the plots' wording.
func writeAtomically(_ path: String, _ produce: (_ temporary: String) throws -> Void) throws {
    do {
        try AtomicFile.write(to: path, producing: produce)
    } catch let error as AtomicFile.WriteError {
        throw error.step == .rename ? PlotError.cannotFinish(path, error.systemReason) : PlotError.cannotWrite(path, error.systemReason)
    }
}

/// An RGB raster: a figure rendered at some resolution, or a PNG read back.
public struct Raster {
    public let width: Int, height: Int
    /// Row-major RGB bytes.
    public internal(set) var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) { self.width = width; self.height = height; self.pixels = pixels }

    public func pixel(_ x: Int, _ y: Int) -> RGB {
        let i = (y * width + x) * 3
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Every colour in the image.
    public var colors: Set<RGB> {
        var seen = Set<RGB>()
        for i in stride(from: 0, to: pixels.count, by: 3) { seen.insert(RGB(pixels[i], pixels[i + 1], pixels[i + 2])) }
        return seen
    }
}

extension Figure {
    /// Pixels per point at `dpi` dots per inch.
    static func scale(dpi: Double) -> Double { dpi / 72 }

    /// The figure rasterised at `dpi` on white (anti-aliased).
    public func raster(dpi: Double = 150) -> Raster {
        let s = Figure.scale(dpi: dpi)
        let w = max(1, Int((width * s - 1e-6).rounded(.up))), h = max(1, Int((height * s - 1e-6).rounded(.up)))
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(w), Int32(h))!
        defer { cairo_surface_destroy(surface) }
        let cr = cairo_create(surface)!
        cairo_scale(cr, s, s)
        Renderer.draw(self, cr)
        cairo_destroy(cr)
        cairo_surface_flush(surface)
        let data = cairo_image_surface_get_data(surface)!, stride = Int(cairo_image_surface_get_stride(surface))
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<w {
                let v = row[x]
                pixels[(y * w + x) * 3] = UInt8((v >> 16) & 0xFF)
                pixels[(y * w + x) * 3 + 1] = UInt8((v >> 8) & 0xFF)
                pixels[(y * w + x) * 3 + 2] = UInt8(v & 0xFF)
            }
        }
        return Raster(width: w, height: h, pixels: pixels)
    }

    /// Writes the figure to `path` (atomically, through Engine's AtomicFile) in `format` (default: from the
    /// extension, PNG when it names none), PNG at `dpi`. Returns the size written, in pixels for PNG and points otherwise.
    @discardableResult
    public func write(to path: String, format: ImageFormat? = nil, dpi: Double = 150) throws -> (width: Int, height: Int) {
        let format = format ?? ImageFormat(path: path) ?? .png
        guard dpi.isFinite, dpi >= 10, dpi <= 2400 else { throw PlotError("--dpi must be between 10 and 2400, got \(dpi)") }
        if format == .png {
            let image = raster(dpi: dpi)
            try image.writePNG(to: path)
            return (image.width, image.height)
        }
        try writeAtomically(path) { temporary in
            guard let probe = fopen(temporary, "wb") else { throw PlotError.cannotWrite(path, String(cString: strerror(errno))) }
            fclose(probe)
            let surface = format == .pdf ? cairo_pdf_surface_create(temporary, width, height)! : cairo_svg_surface_create(temporary, width, height)!
            if format == .pdf {
                // cairo stamps the current time as the creation date; a fixed one keeps the bytes a function of the figure.
                cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "adai-bench")
                cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, "2000-01-01T00:00:00Z")
            } else {
                cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PT)
            }
            let cr = cairo_create(surface)!
            Renderer.draw(self, cr)
            cairo_show_page(cr)
            cairo_destroy(cr)
            cairo_surface_finish(surface)
            let status = cairo_surface_status(surface)
            cairo_surface_destroy(surface)
            guard status == CAIRO_STATUS_SUCCESS else {
                throw PlotError("cannot write \(path): cairo: \(String(cString: cairo_status_to_string(status)))")
            }
            if format == .svg {
                // cairo names the page's group after a surface counter that runs across the whole process; a fixed name
                // keeps the bytes a function of the figure (nothing refers to it).
                if let text = try? String(contentsOfFile: temporary, encoding: .utf8),
                   let range = text.range(of: #"<g id="surface[0-9]+">"#, options: .regularExpression) {
                    do { try text.replacingCharacters(in: range, with: #"<g id="figure">"#).write(toFile: temporary, atomically: false, encoding: .utf8) } catch {
                        throw PlotError("cannot write \(path): \(error.localizedDescription)")
                    }
                }
            }
        }
        return (Int(width.rounded()), Int(height.rounded()))
    }
}

/// Replays a figure's operations on a cairo context (whose user space is in points).
enum Renderer {
    static func setFont(_ cr: OpaquePointer, _ font: Font) {
        cairo_select_font_face(cr, Font.family, CAIRO_FONT_SLANT_NORMAL, font.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, font.size)
        // Unhinted outlines and metrics: text measures the same at every resolution and in every format.
        let options = cairo_font_options_create()
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
        cairo_set_font_options(cr, options)
        cairo_font_options_destroy(options)
    }

    static func color(_ cr: OpaquePointer, _ c: RGB, alpha: Double = 1) {
        cairo_set_source_rgba(cr, Double(c.r) / 255, Double(c.g) / 255, Double(c.b) / 255, alpha)
    }

    static func draw(_ figure: Figure, _ cr: OpaquePointer) {
        color(cr, .white)
        cairo_paint(cr)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT)
        for operation in figure.operations {
            switch operation {
            case .fillRect(let b, let c):
                color(cr, c)
                cairo_rectangle(cr, b.x, b.y, b.width, b.height)
                cairo_fill(cr)
            case .strokeRect(let b, let c, let width):
                color(cr, c)
                cairo_set_line_width(cr, width)
                cairo_rectangle(cr, b.x, b.y, b.width, b.height)
                cairo_stroke(cr)
            case .polyline(let points, let c, let width, let dash):
                guard points.count >= 2 else { continue }
                color(cr, c)
                cairo_set_line_width(cr, width)
                if let (on, off) = dash { var pattern = [on, off]; cairo_set_dash(cr, &pattern, 2, 0) }
                cairo_move_to(cr, points[0].0, points[0].1)
                for p in points.dropFirst() { cairo_line_to(cr, p.0, p.1) }
                cairo_stroke(cr)
                cairo_set_dash(cr, nil, 0, 0)
            case .polygon(let points, let c, let alpha):
                guard points.count >= 3 else { continue }
                color(cr, c, alpha: alpha)
                cairo_move_to(cr, points[0].0, points[0].1)
                for p in points.dropFirst() { cairo_line_to(cr, p.0, p.1) }
                cairo_close_path(cr)
                cairo_fill(cr)
            case .circle(let x, let y, let radius, let c):
                color(cr, c)
                cairo_new_sub_path(cr)
                cairo_arc(cr, x, y, radius, 0, 2 * Double.pi)
                cairo_fill(cr)
            case .text(let t):
                setFont(cr, t.font)
                color(cr, t.color)
                let ascent = TextMetrics.vertical(t.font).ascent
                cairo_save(cr)
                if t.vertical {
                    // Bottom-left of the rotated box is where the text starts; the baseline runs upwards.
                    cairo_translate(cr, t.box.x + ascent, t.box.bottom)
                    cairo_rotate(cr, -Double.pi / 2)
                    cairo_move_to(cr, 0, 0)
                } else {
                    cairo_move_to(cr, t.box.x, t.box.y + ascent)
                }
                cairo_show_text(cr, t.text)
                cairo_restore(cr)
            case .clip(let b):
                cairo_save(cr)
                cairo_rectangle(cr, b.x, b.y, b.width, b.height)
                cairo_clip(cr)
            case .unclip:
                cairo_restore(cr)
            }
        }
    }
}
