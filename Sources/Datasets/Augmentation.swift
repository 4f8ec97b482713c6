import Engine

/// The paper's training augmentation for CIFAR: a random 32×32 crop of the image zero-padded by
/// 4 pixels on each side, then a horizontal flip with probability 0.5 (torchvision's
/// `RandomCrop(32, padding: 4)` and `RandomHorizontalFlip()`, applied before `Normalize`, so
/// padded pixels are black: byte 0, normalised to `-mean / std`).
public struct CropAndFlip: Equatable, Sendable {
    public static let padding = 4

    /// Top-left corner of the crop in the padded 40×40 image, each in 0...8.
    public let offsetY: Int
    public let offsetX: Int
    public let flip: Bool

    public init(offsetY: Int, offsetX: Int, flip: Bool) {
        precondition((0...2 * CropAndFlip.padding).contains(offsetY) && (0...2 * CropAndFlip.padding).contains(offsetX),
                     "crop offsets must lie in 0...8")
        self.offsetY = offsetY
        self.offsetX = offsetX
        self.flip = flip
    }

    /// No crop shift and no flip: the image itself.
    public static let identity = CropAndFlip(offsetY: padding, offsetX: padding, flip: false)

    /// Draws offsets (row, then column, uniform in 0...8) and the flip (probability 0.5) from `generator`.
    public static func random(_ generator: inout RandomGenerator) -> CropAndFlip {
        let y = generator.nextInt(below: 2 * padding + 1)
        let x = generator.nextInt(below: 2 * padding + 1)
        return CropAndFlip(offsetY: y, offsetX: x, flip: generator.bernoulli(0.5))
    }

    /// Writes the cropped (and maybe flipped) 3×32×32 bytes of `pixels` into `out`; pixels from the padding are 0.
    public func apply(_ pixels: UnsafePointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) {
        let side = CIFARImage.side
        let shiftY = offsetY - CropAndFlip.padding, shiftX = offsetX - CropAndFlip.padding
        // Output columns x whose source column x + shiftX lies inside the image (before flipping).
        let firstX = max(0, -shiftX), endX = min(side, side - shiftX)
        for c in 0..<CIFARImage.channels {
            let source = pixels + c * CIFARImage.planeSize, target = out + c * CIFARImage.planeSize
            for y in 0..<side {
                let row = target + y * side
                let sourceY = y + shiftY
                guard sourceY >= 0 && sourceY < side else {
                    row.update(repeating: 0, count: side)
                    continue
                }
                let sourceRow = source + sourceY * side
                if !flip {
                    for x in 0..<firstX { row[x] = 0 }
                    for x in firstX..<endX { row[x] = sourceRow[x + shiftX] }
                    for x in endX..<side { row[x] = 0 }
                } else {
                    // Flipped: out[x] = cropped[31 - x].
                    for x in 0..<side {
                        let cropX = side - 1 - x
                        row[x] = cropX >= firstX && cropX < endX ? sourceRow[cropX + shiftX] : 0
                    }
                }
            }
        }
    }
}
