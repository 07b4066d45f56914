// Not API: the protobuf-c code generated from Sources/CONNXProto/onnx.proto
// (tools/regenerate_onnx_proto.sh). Only Sources/ModelPortONNX/ONNXProtoAdapter.swift uses it.
#ifndef MODELPORT_CONNXPROTO_H
#define MODELPORT_CONNXPROTO_H
#include "onnx.pb-c.h"
#endif
