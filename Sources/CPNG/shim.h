// Not API: libpng, for decoding digit images and writing report pictures.
#ifndef MODELPORT_CPNG_SHIM_H
#define MODELPORT_CPNG_SHIM_H
#include <png.h>
#endif
