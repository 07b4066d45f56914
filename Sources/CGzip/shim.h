// Not API: zlib, for reading gzip-compressed IDX files.
#ifndef MODELPORT_CZLIB_SHIM_H
#define MODELPORT_CZLIB_SHIM_H
#include <zlib.h>
#endif
