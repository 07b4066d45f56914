// Not API: the protobuf-c runtime, which the generated ONNX C code links against.
#ifndef MODELPORT_CPROTOBUFC_SHIM_H
#define MODELPORT_CPROTOBUFC_SHIM_H
#include <protobuf-c/protobuf-c.h>
#endif
