// Not API: libjpeg-turbo, for decoding digit photos.
#ifndef MODELPORT_CJPEG_SHIM_H
#define MODELPORT_CJPEG_SHIM_H
#include <stdio.h>
#include <jpeglib.h>
#endif
