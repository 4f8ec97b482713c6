// libpng's public interface, used by the Plot target to write PNG files.
#include <png.h>
