// Not API: the BLAS entry points ModelPortRuntime calls, from Debian's OpenBLAS.
//
// OpenBLAS is loaded with dlopen on first use rather than linked, so that
// ModelPort can choose its kernel family before its load-time initialisation
// runs (MODELPORT_BLAS_CORETYPE, else the widest the CPU supports). See
// modelport_blas.c for the rule.
#ifndef MODELPORT_BLAS_H
#define MODELPORT_BLAS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Loads OpenBLAS if it is not loaded yet (thread-safe, once). Returns NULL on
/// success, or a message saying why the library could not be loaded.
const char *modelport_blas_load(void);

/// Row-major `C = alpha * op(A) * op(B) + beta * C` (cblas_sgemm).
/// The library must have been loaded successfully.
void modelport_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                     const float *a, int lda, const float *b, int ldb,
                     float beta, float *c, int ldc);

/// OpenBLAS's threads (ModelPort keeps it at 1 and parallelises itself).
void modelport_blas_set_threads(int threads);

/// The kernel family OpenBLAS runs ("SkylakeX", "Haswell", ...) and its
/// build configuration; empty strings before a successful load.
const char *modelport_blas_corename(void);
const char *modelport_blas_config(void);

/// The core type ModelPort asked OpenBLAS for (NULL if it left the choice to
/// OpenBLAS's own detection).
const char *modelport_blas_chosen_coretype(void);

/// The OPENBLAS_CORETYPE from the environment that was set aside while
/// loading (NULL if there was none or it matched the choice).
const char *modelport_blas_overridden(void);

/// The x86-64 instruction-set level this CPU and OS support for ModelPort's
/// own kernels: 4 for x86-64-v4 (AVX-512 F/CD/BW/DQ/VL), 3 for x86-64-v3
/// (AVX2, FMA, BMI1/2, F16C, LZCNT, MOVBE), 0 below that or on other
/// architectures.
int modelport_cpu_x86_level(void);

#ifdef __cplusplus
}
#endif
#endif
