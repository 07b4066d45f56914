// Loads OpenBLAS at run time and picks its kernel family; tells ModelPort
// which x86-64 level its own kernels may use (modelport_cpu_x86_level).
//
// OpenBLAS reads OPENBLAS_CORETYPE once, while it is being loaded. ModelPort
// makes that choice for its own use of the library:
//   1. MODELPORT_BLAS_CORETYPE, if set (any OpenBLAS core name, e.g. "Haswell"
//      for results identical to an AVX2 machine);
//   2. otherwise, on CPUs (and OSes) with the AVX-512 subset OpenBLAS's
//      SkylakeX kernels need (F, CD, BW, DQ, VL): "COOPERLAKE" if AVX512-BF16 is
//      present, else "SKYLAKEX" (the single-precision GEMM is the same
//      kernel). Debian's OpenBLAS 0.3.21 may not recognise newer AMD cores;
//   3. otherwise OpenBLAS's own detection.
// An OPENBLAS_CORETYPE in the environment is set aside during the load (it is
// often set for NumPy's reproducibility, and forcing AVX2 kernels on an
// AVX-512 machine costs ModelPort about 1.5x) and restored afterwards;
// modelport_blas_overridden() reports it.
#include "modelport_blas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

// cblas_sgemm as OpenBLAS declares it (32-bit integers; the CBLAS enums'
// standard values), declared here so no particular cblas.h is needed.
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_fn)(int);
typedef char *(*string_fn)(void);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sgemm_fn sgemm_ptr;
static set_threads_fn set_threads_ptr;
static string_fn corename_ptr, config_ptr;
static const char *chosen;
static char error[512];

static int cpu_has_avx512(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

static int cpu_has_avx512_bf16(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    // CPUID leaf 7, sub-leaf 1, EAX bit 5 (not every compiler names it).
    unsigned int a = 7, b = 0, c = 1, d = 0;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return (a >> 5) & 1;
#else
    return 0;
#endif
}

int modelport_cpu_x86_level(void) {
#if defined(__x86_64__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 12))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return 4;
    if (__builtin_cpu_supports("x86-64-v3")) return 3;
#endif
    return 0;
}

static char overridden[64];

static void load(void) {
    static const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"};
    const char *forced = getenv("MODELPORT_BLAS_CORETYPE");
    const char *previous_value = getenv("OPENBLAS_CORETYPE");
    char previous[64] = "";
    int had_previous = previous_value != NULL;
    if (had_previous) snprintf(previous, sizeof previous, "%s", previous_value);

    if (forced && *forced) chosen = forced;
    else if (cpu_has_avx512()) chosen = cpu_has_avx512_bf16() ? "COOPERLAKE" : "SKYLAKEX";
    if (chosen) setenv("OPENBLAS_CORETYPE", chosen, 1);
    else unsetenv("OPENBLAS_CORETYPE");
    if (had_previous && (!chosen || strcasecmp(previous, chosen) != 0))
        snprintf(overridden, sizeof overridden, "%s", previous);

    void *handle = NULL;
    const char *last = "not found";
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !handle; i++) {
        handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!handle) last = dlerror();
    }
    if (had_previous) setenv("OPENBLAS_CORETYPE", previous, 1);
    else unsetenv("OPENBLAS_CORETYPE");
    if (!handle) {
        snprintf(error, sizeof error, "OpenBLAS could not be loaded (%s); install it with: apt-get install libopenblas0", last);
        return;
    }
    sgemm_ptr = (sgemm_fn)dlsym(handle, "cblas_sgemm");
    set_threads_ptr = (set_threads_fn)dlsym(handle, "openblas_set_num_threads");
    corename_ptr = (string_fn)dlsym(handle, "openblas_get_corename");
    config_ptr = (string_fn)dlsym(handle, "openblas_get_config");
    if (!sgemm_ptr) {
        snprintf(error, sizeof error, "the loaded BLAS library has no cblas_sgemm");
        return;
    }
    if (set_threads_ptr) set_threads_ptr(1);
}

const char *modelport_blas_load(void) {
    pthread_once(&once, load);
    return sgemm_ptr ? NULL : error;
}

void modelport_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                     const float *a, int lda, const float *b, int ldb,
                     float beta, float *c, int ldc) {
    sgemm_ptr(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS,
              m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void modelport_blas_set_threads(int threads) {
    if (set_threads_ptr) set_threads_ptr(threads);
}

const char *modelport_blas_corename(void) { return corename_ptr ? corename_ptr() : ""; }
const char *modelport_blas_config(void) { return config_ptr ? config_ptr() : ""; }
const char *modelport_blas_chosen_coretype(void) { return chosen; }
const char *modelport_blas_overridden(void) { return overridden[0] ? overridden : NULL; }
