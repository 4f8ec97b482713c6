import CPNG
import Foundation

/// An sRGB colour.
public struct RGB: Equatable, Hashable, Sendable {
    public var r, g, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public static let white = RGB(255, 255, 255), black = RGB(0, 0, 0), gray = RGB(128, 128, 128)
    public static let lightGray = RGB(225, 225, 225)

    /// `self` blended over `background` with opacity `alpha` in [0, 1].
    public func blended(over background: RGB, alpha: Double) -> RGB {
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) * alpha + Double(b) * (1 - alpha)).rounded()) }
        return RGB(mix(r, background.r), mix(g, background.g), mix(b, background.b))
    }
}

/// The Okabe–Ito palette, distinguishable for the common forms of colour blindness.
public let colorBlindSafePalette: [RGB] = [
    RGB(0, 114, 178), RGB(213, 94, 0), RGB(0, 158, 115), RGB(204, 121, 167),
    RGB(230, 159, 0), RGB(86, 180, 233), RGB(0, 0, 0), RGB(240, 228, 66),
]

/// An RGB raster with simple drawing primitives; (0, 0) is the top-left pixel.
public struct Canvas {
    public let width: Int, height: Int
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, background: RGB = .white) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, width: width, height: height, color: background)
    }

    public func pixel(_ x: Int, _ y: Int) -> RGB {
        let i = (y * width + x) * 3
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    public mutating func set(_ x: Int, _ y: Int, _ c: RGB) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = c.r; pixels[i + 1] = c.g; pixels[i + 2] = c.b
    }

    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, color: RGB) {
        for yy in max(0, y)..<min(height, y + h) {
            for xx in max(0, x)..<min(width, x + w) { set(xx, yy, color) }
        }
    }

    /// A straight line of the given thickness (Bresenham, with a square pen).
    public mutating func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, color: RGB, thickness: Int = 1) {
        guard [x0, y0, x1, y1].allSatisfy({ $0.isFinite }) else { return }
        var x = Int(x0.rounded()), y = Int(y0.rounded())
        let xe = Int(x1.rounded()), ye = Int(y1.rounded())
        let dx = abs(xe - x), dy = -abs(ye - y), sx = x < xe ? 1 : -1, sy = y < ye ? 1 : -1
        var err = dx + dy
        let lo = -(thickness - 1) / 2, hi = thickness / 2
        while true {
            for a in lo...hi { for b in lo...hi { set(x + a, y + b, color) } }
            if x == xe && y == ye { break }
            let e2 = 2 * err
            if e2 >= dy { err += dy; x += sx }
            if e2 <= dx { err += dx; y += sy }
        }
    }

    /// A dashed line: `dash` pixels drawn, then `gap` pixels skipped, along the line.
    public mutating func dashedLine(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, color: RGB, thickness: Int = 1,
                                    dash: Int = 8, gap: Int = 5) {
        guard [x0, y0, x1, y1].allSatisfy({ $0.isFinite }) else { return }
        let length = ((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)).squareRoot()
        guard length > 0 else { return }
        var start = 0.0
        while start < length {
            let end = min(start + Double(dash), length)
            line(x0 + (x1 - x0) * start / length, y0 + (y1 - y0) * start / length,
                 x0 + (x1 - x0) * end / length, y0 + (y1 - y0) * end / length, color: color, thickness: thickness)
            start = end + Double(gap)
        }
    }

    /// Fills the region between two curves sampled at the same x positions (a band), blending `color` at `alpha`.
    public mutating func band(xs: [Double], lower: [Double], upper: [Double], color: RGB, alpha: Double) {
        guard xs.count >= 2 else { return }
        var painted = Set<Int>()
        for i in 0..<(xs.count - 1) {
            let xa = xs[i], xb = xs[i + 1]
            guard xb > xa else { continue }
            for px in Int(xa.rounded())...Int(xb.rounded()) {
                let t = min(max((Double(px) - xa) / (xb - xa), 0), 1)
                let top = upper[i] + t * (upper[i + 1] - upper[i]), bottom = lower[i] + t * (lower[i + 1] - lower[i])
                guard top.isFinite, bottom.isFinite else { continue }
                for py in Int(min(top, bottom).rounded())...Int(max(top, bottom).rounded()) {
                    guard px >= 0, py >= 0, px < width, py < height, painted.insert(py * width + px).inserted else { continue }
                    set(px, py, color.blended(over: pixel(px, py), alpha: alpha))
                }
            }
        }
    }

    /// Width in pixels of `text` at integer `scale`.
    public static func textWidth(_ text: String, scale: Int = 1) -> Int { text.count * BitmapFont.width * scale }
    public static func textHeight(scale: Int = 1) -> Int { BitmapFont.height * scale }

    /// Draws `text` with its top-left corner at (x, y); `vertical` rotates it 90° counter-clockwise
    /// (reading bottom to top, for a y-axis title), with (x, y) then its bottom-left corner.
    public mutating func text(_ text: String, x: Int, y: Int, color: RGB = .black, scale: Int = 1, vertical: Bool = false) {
        for (index, ch) in text.enumerated() {
            let rows = BitmapFont.glyphs[ch] ?? BitmapFont.glyphs["?"]!
            for (r, bits) in rows.enumerated() {
                for c in 0..<BitmapFont.width where bits & (1 << (BitmapFont.width - 1 - c)) != 0 {
                    for a in 0..<scale {
                        for b in 0..<scale {
                            let gx = (index * BitmapFont.width + c) * scale + a, gy = r * scale + b
                            if vertical { set(x + gy, y - gx, color) } else { set(x + gx, y + gy, color) }
                        }
                    }
                }
            }
        }
    }
}

/// Errors from writing or reading PNG files.
public struct PNGError: Error, CustomStringConvertible {
    public let description: String
}

extension Canvas {
    /// Writes the canvas as an 8-bit RGB PNG (atomically: a temporary file, then a rename).
    /// No time or text chunks are written, so the same canvas always gives the same bytes.
    public func writePNG(to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        guard let file = fopen(temporary, "wb") else {
            throw PNGError(description: "cannot write \(path): \(String(cString: strerror(errno))); check that its directory exists and is writable")
        }
        guard let png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nil, nil, nil) else {
            fclose(file)
            throw PNGError(description: "libpng could not start writing \(path)")
        }
        var info = png_create_info_struct(png)
        var pngPointer: png_structp? = png
        png_init_io(png, file)
        png_set_IHDR(png, info, png_uint_32(width), png_uint_32(height), 8, PNG_COLOR_TYPE_RGB,
                     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT)
        png_write_info(png, info)
        pixels.withUnsafeBufferPointer { buffer in
            for y in 0..<height {
                png_write_row(png, buffer.baseAddress! + y * width * 3)
            }
        }
        png_write_end(png, nil)
        png_destroy_write_struct(&pngPointer, &info)
        let closed = fclose(file)
        guard closed == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw PNGError(description: "cannot finish writing \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Reads an 8-bit RGB PNG (as written by `writePNG`) back into a canvas.
    public static func readPNG(from path: String) throws -> Canvas {
        guard let file = fopen(path, "rb") else {
            throw PNGError(description: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var header = [UInt8](repeating: 0, count: 8)
        guard fread(&header, 1, 8, file) == 8, png_sig_cmp(header, 0, 8) == 0 else {
            throw PNGError(description: "\(path) is not a PNG file")
        }
        guard let png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nil, nil, nil) else {
            throw PNGError(description: "libpng could not start reading \(path)")
        }
        var info = png_create_info_struct(png)
        var pngPointer: png_structp? = png
        defer { png_destroy_read_struct(&pngPointer, &info, nil) }
        png_init_io(png, file)
        png_set_sig_bytes(png, 8)
        png_read_info(png, info)
        let w = Int(png_get_image_width(png, info)), h = Int(png_get_image_height(png, info))
        guard png_get_color_type(png, info) == PNG_COLOR_TYPE_RGB, png_get_bit_depth(png, info) == 8 else {
            throw PNGError(description: "\(path) is not an 8-bit RGB PNG")
        }
        var canvas = Canvas(width: w, height: h)
        var row = [UInt8](repeating: 0, count: w * 3)
        for y in 0..<h {
            png_read_row(png, &row, nil)
            for x in 0..<w { canvas.set(x, y, RGB(row[x * 3], row[x * 3 + 1], row[x * 3 + 2])) }
        }
        return canvas
    }
}
