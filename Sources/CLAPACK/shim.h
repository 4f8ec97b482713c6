// The one LAPACK routine the analyses call, from OpenBLAS (which bundles LAPACK): the symmetric
// eigen-decomposition by divide and conquer (column-major, Fortran calling convention).
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);
