/* Unprefixed BLAS/LAPACK entry points for MLX, forwarded to scipy-openblas32.
 *
 * MLX's Linux CPU backend resolves `cblas_sgemm` (and a few LAPACK routines)
 * dynamically; the first definition in the global symbol scope wins. The
 * scipy-openblas32 wheel only exports `scipy_`-prefixed names, so this shim,
 * loaded RTLD_GLOBAL before `mlx.core`, provides the plain names. Built and
 * cached by models/backend.py; see docs/architecture.md.
 */

/* OpenBLAS "32" means 32-bit integers, the same CBLAS_INT MLX was built with. */
typedef int blasint;

#define GEMM_ARGS_3(T, S)                                                     \
  int order, int trans_a, int trans_b, blasint m, blasint n, blasint k,       \
      S alpha, const T *a, blasint lda, const T *b, blasint ldb, S beta, T *c, \
      blasint ldc

void scipy_cblas_sgemm(GEMM_ARGS_3(float, float));
void scipy_cblas_dgemm(GEMM_ARGS_3(double, double));
void scipy_cblas_cgemm(GEMM_ARGS_3(void, const void *));

void cblas_sgemm(GEMM_ARGS_3(float, float)) {
  scipy_cblas_sgemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void cblas_dgemm(GEMM_ARGS_3(double, double)) {
  scipy_cblas_dgemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void cblas_cgemm(GEMM_ARGS_3(void, const void *)) {
  scipy_cblas_cgemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* LAPACK (Fortran ABI, with hidden string-length arguments since LAPACK 3.9.1)
 * is forwarded by a bare tail jump so every argument, hidden or on the stack,
 * passes through untouched. On other architectures MLX keeps its bundled
 * reference LAPACK, which is correct, only slower; the models do not use it. */
#if defined(__ELF__) && defined(__x86_64__)
#define FORWARD(name)                                                        \
  __asm__(".text\n.globl " #name "\n.type " #name ",@function\n.p2align 4\n" #name \
          ":\n\tjmp *scipy_" #name "@GOTPCREL(%rip)\n.size " #name ",.-" #name "\n");
#elif defined(__ELF__) && defined(__aarch64__)
#define FORWARD(name)                                                        \
  __asm__(".text\n.globl " #name "\n.type " #name ",%function\n.p2align 2\n" #name \
          ":\n\tadrp x16, :got:scipy_" #name "\n\tldr x16, [x16, :got_lo12:scipy_" #name \
          "]\n\tbr x16\n.size " #name ",.-" #name "\n");
#else
#define FORWARD(name)
#endif

/* Exactly the LAPACK routines libmlx.so leaves undefined (`nm -D -u`). */
FORWARD(sgeqrf_) FORWARD(dgeqrf_) FORWARD(sorgqr_) FORWARD(dorgqr_)
FORWARD(ssyevd_) FORWARD(dsyevd_) FORWARD(cheevd_)
FORWARD(spotrf_) FORWARD(dpotrf_) FORWARD(strtri_) FORWARD(dtrtri_)
FORWARD(sgetrf_) FORWARD(dgetrf_) FORWARD(sgetri_) FORWARD(dgetri_)
FORWARD(sgeev_)  FORWARD(dgeev_)  FORWARD(cgeev_)
FORWARD(sgesdd_) FORWARD(dgesdd_) FORWARD(cgesdd_)
