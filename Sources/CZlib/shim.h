// zlib for the gzip codec of Kafka record batches. deflateInit2 and inflateInit2 are macros,
// which Swift cannot call: these inline functions stand for them.
#ifndef SWITCHBACK_CZLIB_SHIM_H
#define SWITCHBACK_CZLIB_SHIM_H
#include <zlib.h>

static inline int switchback_deflate_init_gzip(z_stream *stream, int level) {
    // 15 + 16: a 32 KiB window with a gzip (not zlib) wrapper, as Kafka producers write.
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

static inline int switchback_inflate_init_auto(z_stream *stream) {
    // 15 + 32: detect a gzip or zlib wrapper from the header.
    return inflateInit2(stream, 15 + 32);
}
#endif
