import CPNG
import Foundation

extension Raster {
    /// Writes the raster as an 8-bit RGB PNG through libpng (atomically, through Engine's AtomicFile).
    /// No time or text chunks are written, so the same raster always gives the same bytes.
    public func writePNG(to path: String) throws {
        try writeAtomically(path) { temporary in
            guard let file = fopen(temporary, "wb") else { throw PlotError.cannotWrite(path, String(cString: strerror(errno))) }
            guard let png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nil, nil, nil) else {
                fclose(file)
                throw PlotError("libpng could not start writing \(path)")
            }
            var info = png_create_info_struct(png)
            var pngPointer: png_structp? = png
            png_init_io(png, file)
            png_set_IHDR(png, info, png_uint_32(width), png_uint_32(height), 8, PNG_COLOR_TYPE_RGB,
                         PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT)
            png_write_info(png, info)
            pixels.withUnsafeBufferPointer { buffer in
                for y in 0..<height { png_write_row(png, buffer.baseAddress! + y * width * 3) }
            }
            png_write_end(png, nil)
            png_destroy_write_struct(&pngPointer, &info)
            guard fclose(file) == 0 else { throw PlotError.cannotFinish(path, String(cString: strerror(errno))) }
        }
    }

    /// Reads an 8-bit RGB PNG (as written by `writePNG`).
    public static func readPNG(from path: String) throws -> Raster {
        guard let file = fopen(path, "rb") else {
            throw PlotError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var header = [UInt8](repeating: 0, count: 8)
        guard fread(&header, 1, 8, file) == 8, png_sig_cmp(header, 0, 8) == 0 else {
            throw PlotError("\(path) is not a PNG file")
        }
        guard let png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nil, nil, nil) else {
            throw PlotError("libpng could not start reading \(path)")
        }
        var info = png_create_info_struct(png)
        var pngPointer: png_structp? = png
        defer { png_destroy_read_struct(&pngPointer, &info, nil) }
        png_init_io(png, file)
        png_set_sig_bytes(png, 8)
        png_read_info(png, info)
        let w = Int(png_get_image_width(png, info)), h = Int(png_get_image_height(png, info))
        guard png_get_color_type(png, info) == PNG_COLOR_TYPE_RGB, png_get_bit_depth(png, info) == 8 else {
            throw PlotError("\(path) is not an 8-bit RGB PNG")
        }
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        pixels.withUnsafeMutableBufferPointer { buffer in
            for y in 0..<h { png_read_row(png, buffer.baseAddress! + y * w * 3, nil) }
        }
        return Raster(width: w, height: h, pixels: pixels)
    }
}
