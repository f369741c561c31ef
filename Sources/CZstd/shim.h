// Zstandard for the zstd codec of Kafka record batches.
#ifndef SWITCHBACK_CZSTD_SHIM_H
#define SWITCHBACK_CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
