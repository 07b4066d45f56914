// Not API: libjpeg-turbo, for decoding digit photos.
//
// libjpeg reports fatal errors by calling error_exit, which must not return;
// the only way out is longjmp. These static inline functions set the jump
// point themselves (setjmp) and turn every error, and every warning such as
// "Premature end of JPEG file", into a return code and a message, so Swift
// never sees a longjmp.
#ifndef MODELPORT_CJPEG_SHIM_H
#define MODELPORT_CJPEG_SHIM_H
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>

struct modelport_jpeg_error {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static inline void modelport_jpeg_error_exit(j_common_ptr info) {
    struct modelport_jpeg_error *error = (struct modelport_jpeg_error *)info->err;
    (*info->err->format_message)(info, error->message);
    longjmp(error->jump, 1);
}

// Warnings (msg_level -1) mean damaged data that libjpeg would paper over
// with gray pixels: treat them as errors. Trace messages are ignored.
static inline void modelport_jpeg_emit_message(j_common_ptr info, int level) {
    if (level < 0) modelport_jpeg_error_exit(info);
}

/// Reads the header of an in-memory JPEG: width, height and number of
/// components. Returns 1 on success, 0 with a message on failure.
static inline int modelport_jpeg_info(const unsigned char *data, unsigned long size,
                                      unsigned *width, unsigned *height, int *components,
                                      char *message, size_t message_size) {
    struct jpeg_decompress_struct info;
    struct modelport_jpeg_error error;
    memset(&info, 0, sizeof(info));
    info.err = jpeg_std_error(&error.base);
    error.base.error_exit = modelport_jpeg_error_exit;
    error.base.emit_message = modelport_jpeg_emit_message;
    error.message[0] = 0;
    if (setjmp(error.jump)) {
        snprintf(message, message_size, "%s", error.message);
        jpeg_destroy_decompress(&info);
        return 0;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, size);
    jpeg_read_header(&info, TRUE);
    *width = info.image_width;
    *height = info.image_height;
    *components = info.num_components;
    jpeg_destroy_decompress(&info);
    return 1;
}

/// Decodes an in-memory JPEG to 8-bit RGB (rows packed, width*3 bytes each)
/// into `pixels`, which holds expected_width*expected_height*3 bytes. The
/// header must still declare that size. Returns 1 on success, 0 with a message.
static inline int modelport_jpeg_decode_rgb(const unsigned char *data, unsigned long size,
                                            unsigned expected_width, unsigned expected_height,
                                            unsigned char *pixels, char *message, size_t message_size) {
    struct jpeg_decompress_struct info;
    struct modelport_jpeg_error error;
    memset(&info, 0, sizeof(info));
    info.err = jpeg_std_error(&error.base);
    error.base.error_exit = modelport_jpeg_error_exit;
    error.base.emit_message = modelport_jpeg_emit_message;
    error.message[0] = 0;
    if (setjmp(error.jump)) {
        snprintf(message, message_size, "%s", error.message);
        jpeg_destroy_decompress(&info);
        return 0;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, size);
    jpeg_read_header(&info, TRUE);
    info.out_color_space = JCS_RGB;
    jpeg_start_decompress(&info);
    if (info.output_width != expected_width || info.output_height != expected_height || info.output_components != 3) {
        snprintf(message, message_size, "decoder output %ux%ux%d differs from the header", info.output_width,
                 info.output_height, info.output_components);
        jpeg_destroy_decompress(&info);
        return 0;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + (size_t)info.output_scanline * expected_width * 3;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    return 1;
}
#endif
