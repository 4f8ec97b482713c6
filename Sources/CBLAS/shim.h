// OpenBLAS's CBLAS interface plus its thread-control extensions (openblas_set_num_threads).
#include <cblas.h>
