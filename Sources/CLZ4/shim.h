// The LZ4 frame format (lz4frame.h), the framing Kafka uses for lz4 record batches.
#ifndef SWITCHBACK_CLZ4_SHIM_H
#define SWITCHBACK_CLZ4_SHIM_H
#include <lz4frame.h>

static inline unsigned switchback_lz4f_version(void) { return LZ4F_VERSION; }
#endif
