// cairo's public interface (image, PDF and SVG surfaces; text through fontconfig), used by the Plot target.
#include <cairo.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
