// Not API: placeholder until the generated ONNX protobuf-c code lands here.
#ifndef MODELPORT_CONNXPROTO_H
#define MODELPORT_CONNXPROTO_H
#endif
