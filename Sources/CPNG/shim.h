// Not API: libpng, for decoding digit images and writing report pictures.
//
// Only libpng's "simplified API" (png_image_*) is used: it catches libpng's
// longjmp-based errors internally and reports failure as a zero return with a
// message in image->message, so no longjmp ever crosses into Swift. The
// functions below split decoding in two so the caller can check the declared
// size before allocating anything.
#ifndef MODELPORT_CPNG_SHIM_H
#define MODELPORT_CPNG_SHIM_H
#include <png.h>
#include <string.h>
#include <stdlib.h>

/// Reads the header of an in-memory PNG. Returns 1 on success and fills
/// width/height; on failure returns 0 with a message in `message`.
/// On success the caller must call modelport_png_finish or modelport_png_abort.
static inline int modelport_png_begin(png_image *image, const void *data, size_t size,
                                      char *message, size_t message_size) {
    memset(image, 0, sizeof(*image));
    image->version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(image, data, size)) {
        snprintf(message, message_size, "%s", image->message);
        png_image_free(image);
        return 0;
    }
    return 1;
}

/// Decodes the pixels as 8-bit RGBA (row stride width*4) into `pixels`,
/// which holds at least width*height*4 bytes. Returns 1 on success, 0 with a
/// message on failure. Frees the decoder either way.
static inline int modelport_png_finish(png_image *image, void *pixels, char *message, size_t message_size) {
    image->format = PNG_FORMAT_RGBA;
    int ok = png_image_finish_read(image, NULL, pixels, 0, NULL);
    if (!ok) snprintf(message, message_size, "%s", image->message);
    png_image_free(image);
    return ok;
}

/// Frees a decoder begun with modelport_png_begin without decoding.
static inline void modelport_png_abort(png_image *image) { png_image_free(image); }

/// Encodes 8-bit pixels (channels 1 = gray, 2 = gray+alpha, 3 = RGB, 4 = RGBA,
/// rows packed) as PNG in a malloc'ed buffer stored in *out (free it with
/// modelport_png_free). Returns the size, or 0 with a message on failure.
static inline size_t modelport_png_encode(const void *pixels, unsigned width, unsigned height, unsigned channels,
                                          void **out, char *message, size_t message_size) {
    png_image image;
    memset(&image, 0, sizeof(image));
    image.version = PNG_IMAGE_VERSION;
    image.width = width;
    image.height = height;
    image.format = channels == 1 ? PNG_FORMAT_GRAY : channels == 2 ? PNG_FORMAT_GA
                 : channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA;
    *out = NULL;
    png_alloc_size_t size = 0;
    // First call measures, second writes.
    if (!png_image_write_to_memory(&image, NULL, &size, 0, pixels, 0, NULL)) {
        snprintf(message, message_size, "%s", image.message);
        return 0;
    }
    void *buffer = malloc(size);
    if (!buffer) { snprintf(message, message_size, "out of memory"); return 0; }
    if (!png_image_write_to_memory(&image, buffer, &size, 0, pixels, 0, NULL)) {
        snprintf(message, message_size, "%s", image.message);
        free(buffer);
        return 0;
    }
    *out = buffer;
    return size;
}

static inline void modelport_png_free(void *buffer) { free(buffer); }
#endif
