// Not API: the CBLAS entry points ModelPortRuntime calls, from Debian's OpenBLAS.
#ifndef MODELPORT_CBLAS_SHIM_H
#define MODELPORT_CBLAS_SHIM_H
#include <cblas.h>
#endif
